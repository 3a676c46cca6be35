"""A VIN typed on the customer page, through a real livekit-server: the caller (the Python
SDK, publishing on the data channel as the page does) and the agent's call in one room.
One short call: no speech to recognise, just the typed VIN, its lookup and the spoken answer."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit import api, rtc

from adapters.call_center import GroupCommitCallCenter
from adapters.livekit.tokens import LiveKitSettings, customer_token
from adapters.voice.providers import Providers
from apps.agent.call import Call
from apps.agent.config import AgentConfig
from apps.agent.typed_vin import VIN_TOPIC
from tests.agent.helpers import eventually, free_port, logged
from tests.e2e.livekit_client import join

LIVEKIT_BINARY = Path.home() / ".cache" / "callcenter" / "bin" / "livekit-server"
ROOM = "call-typed-vin-room"
TYPED = "WBA5R1C00TF734097"  # a 2026 BMW 330i in the demo inventory

CONFIG = """\
port: {port}
bind_addresses: ["127.0.0.1"]
rtc:
  tcp_port: {tcp}
  port_range_start: {udp}
  port_range_end: {udp_end}
  use_external_ip: false
  node_ip: 127.0.0.1
keys:
  {key}: {secret}
logging:
  level: warn
"""


@pytest.fixture
def livekit(tmp_path: Path) -> Iterator[LiveKitSettings]:
    if not LIVEKIT_BINARY.exists():
        pytest.skip("livekit-server is not built (scripts/setup.sh builds it)")
    port, udp = free_port(), free_port()
    key, secret = "typed-" + secrets.token_hex(4), secrets.token_urlsafe(32)
    config = tmp_path / "livekit.yaml"
    config.write_text(
        CONFIG.format(port=port, tcp=free_port(), udp=udp, udp_end=udp + 20, key=key, secret=secret)
    )
    process = subprocess.Popen(
        [str(LIVEKIT_BINARY), "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("livekit-server did not start") from None
                time.sleep(0.2)
        yield LiveKitSettings(url=f"ws://127.0.0.1:{port}", api_key=key, api_secret=secret)
    finally:
        process.terminate()
        process.wait(10)


def agent_token(s: LiveKitSettings) -> str:
    return (
        api.AccessToken(s.api_key, s.api_secret)
        .with_identity("agent-typed")
        .with_kind("agent")
        .with_grants(api.VideoGrants(room_join=True, room=ROOM, can_publish_data=True))
        .to_jwt()
    )


async def test_a_vin_typed_on_the_page_reaches_the_agent_over_the_data_channel(
    livekit: LiveKitSettings,
    app: GroupCommitCallCenter,
    agent_config: AgentConfig,
    providers: Providers,
) -> None:
    agent_room = rtc.Room()
    await agent_room.connect(livekit.url, agent_token(livekit))
    customer, listener = await join(
        livekit.url, customer_token(livekit, ROOM, "customer-typed", "Caller")
    )
    call = Call(
        room_name=ROOM, session_key="job-typed-room", config=agent_config, app=app,
        providers=providers,
    )  # fmt: skip
    try:
        await call.open()
        await call.start(agent_room)
        assert call.greeting is not None
        await asyncio.wait_for(call.greeting.wait_for_playout(), 30)

        # what the customer page sends: the VIN's bytes, reliably, on the `vin` topic
        await customer.local_participant.publish_data(
            TYPED.lower().encode(), reliable=True, topic=VIN_TOPIC
        )

        def answered() -> bool:
            return any(
                getattr(i, "role", None) == "assistant" and "330i" in (i.text_content or "")
                for i in call.session.history.items
            )

        await eventually(answered, 30, "the agent's answer to the typed VIN")
        await eventually(lambda: call.session.agent_state == "listening", 30, "the answer spoken")
        assert listener.audible_frames.get("agent-typed", 0) > 0  # the caller heard it
    finally:
        await call.end()
        await call.close()
        await listener.close()
        await customer.disconnect()
        await agent_room.disconnect()

    events = logged(app, ROOM)
    [lookup] = [e for e in events if type(e).__name__ == "VehicleLookedUp"]
    assert (lookup.vin, lookup.found, lookup.channel) == (TYPED, True, "typed")

"""Simulated calls for the soak test: each call gets a token over HTTP, its LiveKit
webhooks are signed and posted, and its agent events go through a writer process's group
commit, at a talking pace, until the deadline. Bounded in count and time; loopback only."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.call_center import GroupCommitCallCenter
from adapters.livekit.webhooks import sign_webhook
from domain import commands as c
from domain.meta import EventMeta


@dataclass
class SoakStats:
    calls_started: int = 0
    calls_finished: int = 0
    http_errors: list[str] = field(default_factory=list)
    command_errors: list[str] = field(default_factory=list)
    commands: int = 0
    webhooks: int = 0
    retries: int = 0


class SoakLoad:
    def __init__(
        self,
        base_url: str,
        app: GroupCommitCallCenter,
        api_key: str,
        api_secret: str,
        stats: SoakStats,
    ) -> None:
        self.base_url, self.app, self.key, self.secret, self.stats = (
            base_url,
            app,
            api_key,
            api_secret,
            stats,
        )

    async def post(self, http: httpx.AsyncClient, path: str, **kw: Any) -> httpx.Response:
        """Like LiveKit and browsers: retry a request whose connection dropped."""
        for attempt in range(3):
            try:
                return await http.post(path, **kw)
            except httpx.TransportError:
                self.stats.retries += 1
                if attempt == 2:
                    raise
                await asyncio.sleep(0.2)
        raise AssertionError("unreachable")

    async def webhook(self, http: httpx.AsyncClient, payload: dict[str, Any]) -> None:
        body = json.dumps(payload)
        headers = {"Authorization": sign_webhook(body, self.key, self.secret)}
        r = await self.post(http, "/webhook/livekit", content=body, headers=headers)
        self.stats.webhooks += 1
        if r.status_code != 200 or r.json().get("status") not in ("recorded", "duplicate"):
            self.stats.http_errors.append(
                f"webhook {payload['event']}: {r.status_code} {r.text[:120]}"
            )

    async def agent(self, command: c.Command) -> None:
        try:
            outcome = await self.app.record_async(command)
            self.stats.commands += 1
            if outcome.status != "recorded":
                self.stats.command_errors.append(f"{type(command).__name__}: {outcome.status}")
        except Exception as e:
            self.stats.command_errors.append(f"{type(command).__name__}: {e}")

    async def call(self, http: httpx.AsyncClient, seconds: float, rng: random.Random) -> None:
        r = await self.post(http, "/api/get-token", json={"participant_name": "Soak Caller"})
        if r.status_code != 200:
            self.stats.http_errors.append(f"get-token: {r.status_code} {r.text[:120]}")
            await asyncio.sleep(1.0)
            return
        room, customer = r.json()["room_name"], r.json()["participant_identity"]
        self.stats.calls_started += 1
        n = 0

        def hook(event: str, **extra: Any) -> dict[str, Any]:
            nonlocal n
            n += 1
            return {
                "event": event,
                "id": f"EV_{room}_{n}",
                "createdAt": str(int(time.time())),
                "room": {"name": room, "sid": f"RM_{room}"},
                **extra,
            }

        cust = {
            "identity": customer,
            "sid": f"PA_{customer}",
            "kind": "STANDARD",
            "attributes": {"role": "customer"},
        }
        agent = {"identity": f"agent-{room}", "sid": f"PA_agent_{room}", "kind": "AGENT"}
        await self.webhook(http, hook("room_started"))
        await self.webhook(http, hook("participant_joined", participant=cust))
        await self.webhook(http, hook("participant_joined", participant=agent))
        await self.webhook(
            http,
            hook(
                "track_published",
                participant=cust,
                track={"sid": f"TR_{room}", "type": "AUDIO", "source": "MICROPHONE"},
            ),
        )
        end = time.monotonic() + seconds
        turn = 0

        def meta(kind: str) -> EventMeta:
            return EventMeta(source="agent", external_id=f"{room}:{turn}:{kind}")

        while time.monotonic() < end:
            turn += 1
            await self.agent(
                c.ChangeUserState(room_name=room, meta=meta("us"), new_state="speaking")
            )
            for k in range(3):
                await self.agent(
                    c.RecordInterimTranscript(
                        room_name=room,
                        meta=meta(f"i{k}"),
                        speaker="customer",
                        text="I am looking for"[: 6 + 4 * k],
                    )
                )
                await asyncio.sleep(0.3)
            await self.agent(
                c.RecordFinalTranscript(
                    room_name=room,
                    meta=meta("f"),
                    speaker="customer",
                    text=f"I am looking for a sedan, turn {turn}",
                    confidence=0.9,
                )
            )
            await self.agent(
                c.ChangeAgentState(room_name=room, meta=meta("as"), new_state="speaking")
            )
            await self.agent(
                c.RecordAgentReply(
                    room_name=room, meta=meta("r"), text="We have several sedans on the lot."
                )
            )
            await self.agent(
                c.MeasureTurn(room_name=room, meta=meta("m"), end_to_end_s=rng.uniform(0.5, 1.5))
            )
            await asyncio.sleep(rng.uniform(2.0, 4.0))
        await self.webhook(http, hook("participant_left", participant=cust))
        await self.webhook(http, hook("room_finished"))
        self.stats.calls_finished += 1

    async def run(
        self, concurrent: int, seconds: float, call_seconds: tuple[float, float], seed: int = 7
    ) -> None:
        rng = random.Random(seed)
        deadline = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30, limits=limits) as http:

            async def lane(delay: float) -> None:
                await asyncio.sleep(delay)  # spread the first calls over 30 s
                while True:  # every lane places at least one call, then more while time allows
                    length = min(rng.uniform(*call_seconds), max(5.0, deadline - time.monotonic()))
                    await self.call(http, length, rng)
                    if time.monotonic() >= deadline - call_seconds[0]:
                        return

            spread = min(30.0, seconds / 4)
            await asyncio.gather(*(lane(rng.uniform(0, spread)) for _ in range(concurrent)))

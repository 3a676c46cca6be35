"""The assistant's tools, called by the dealership dialogue policy in a real AgentSession
(typed turns), end in domain events; the services behind them, on their own."""

from __future__ import annotations

import json
import time

from livekit import rtc

from adapters.call_center import GroupCommitCallCenter
from adapters.voice.providers import Providers
from apps.agent.assistant import FILLER, GREETING
from apps.agent.call import Call
from apps.agent.config import AgentConfig
from apps.usecases.dealership import DealershipServices
from tests.agent.helpers import eventually, logged

ROOM = "call-tools"
IN_STOCK = "WBA5R1C07LF226631"  # a 2020 BMW 330i in the demo inventory
NOT_STOCKED = "1HGCM82633A004352"  # a valid 2003 Honda VIN that is not on the lot
TYPED = "WBA5R1C00TF734097"  # a 2026 BMW 330i in the demo inventory


def of(events: list[object], name: str) -> list[object]:
    return [e for e in events if type(e).__name__ == name]


async def test_tool_calls_through_the_dialogue_policy_become_events(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers
) -> None:
    call = Call(
        room_name=ROOM,
        session_key="job-tools",
        config=agent_config,
        app=app,
        providers=providers,
    )
    await call.open()
    await call.start()  # no room: typed turns only
    assert call.greeting is not None
    await call.greeting
    turns = [
        f"my VIN is {NOT_STOCKED}",
        "yes",  # to the VIN read back
        "I would like to book a test drive",
        "my name is John Smith",
        "my number is five five five one two three four",
        "tomorrow at ten a m",
        f"what about the VIN {IN_STOCK}",
        "yes that's right",
        "please call me back, my name is Mary Johnson and my number is 555-212-1234",
    ]
    replies = []
    for text in turns:
        result = await call.session.run(user_input=text)
        replies.append(
            " ".join(m.item.text_content or "" for m in result.events if m.type == "message")
        )
    assert replies[0].endswith("Is that right?") and "1 H G, C M 8" in replies[0]
    assert "2003 Honda" in replies[1] and "booked for tomorrow at 10 am" in replies[5]
    await call.end()
    await call.close()

    events = logged(app, ROOM)
    lookups = of(events, "VehicleLookedUp")
    assert [(e.vin, e.found, e.check_digit_valid, e.channel) for e in lookups] == [
        (NOT_STOCKED, False, True, "voice"),
        (IN_STOCK, True, True, "voice"),
    ]
    assert lookups[0].decoded["make"] == "Honda" and lookups[0].vehicle is None
    assert lookups[1].vehicle["model"] == "330i"
    [drive] = of(events, "TestDriveBooked")
    assert (drive.customer_name, drive.phone, drive.preferred_time, drive.vin) == (
        "John Smith",
        "5551234",
        "tomorrow at 10 am",
        NOT_STOCKED,
    )
    [callback] = of(events, "CallbackRequested")
    assert (callback.customer_name, callback.phone) == ("Mary Johnson", "5552121234")

    tools = of(events, "ToolCalled")
    assert [t.name for t in tools] == [
        "lookup_vehicle",
        "book_test_drive",
        "lookup_vehicle",
        "request_callback",
    ]
    assert tools[0].arguments == {"vin": NOT_STOCKED} and tools[0].error is None
    assert json.loads(tools[1].result)["booked"] is True
    assert [e.text for e in of(events, "FinalTranscriptRecorded")] == turns
    replies_recorded = [e.text for e in of(events, "AgentReplied")]
    assert replies_recorded[0] == GREETING
    assert "Let me check" not in " ".join(replies_recorded)  # no search asked for
    assert of(events, "AgentSessionClosed")[-1].reason == "user_initiated"
    assert call.sink.stats.rejected == 0 and call.sink.stats.dropped == 0


def test_services_validate_before_promising_anything() -> None:
    services = DealershipServices()
    bad = services.lookup_vehicle("1HGCM82633A004353")  # wrong check digit
    assert not bad.check_digit_valid and not bad.found
    assert bad.result["error"] == "check_digit" and "decoded" not in bad.result
    short = services.lookup_vehicle("one two three")
    assert short.result["error"] == "length" and short.vin == "123"

    found = services.search_inventory(make="BMW", max_price=30_000)
    assert found["count"] >= 1 and all(v["price"] <= 30_000 for v in found["vehicles"])
    assert services.search_inventory(min_price=5, max_price=1)["error"] == "invalid_filter"

    no_phone = services.book_test_drive("Ann", "12", "monday", None)
    assert no_phone.error and no_phone.result["booked"] is False
    ok = services.request_callback("Ann", "555 123 4567", "", "financing")
    assert ok.error is None and ok.result["topic"] == "financing"


async def test_a_vin_typed_on_the_page_is_looked_up_and_recorded_as_typed(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers
) -> None:
    room = "call-typed-vin"
    call = Call(
        room_name=room, session_key="job-typed", config=agent_config, app=app, providers=providers
    )
    await call.open()
    await call.start()  # no room: the packets are handed to the room's handler directly
    assert call.greeting is not None
    await call.greeting

    def packet(data: bytes, topic: str) -> rtc.DataPacket:
        return rtc.DataPacket(data=data, kind=rtc.DataPacketKind.KIND_RELIABLE, participant=None,
                              topic=topic)  # fmt: skip

    call.typed_vins.data_received(packet(b"1HGCM82633A004352", "lk.chat"))  # not ours
    call.typed_vins.data_received(packet(b"W" * 500, "vin"))  # not a VIN
    call.typed_vins.data_received(packet(b" wba5r1c00tf734097 ", "vin"))

    def answered() -> bool:
        return any(
            getattr(i, "role", None) == "assistant" and "330i" in (i.text_content or "")
            for i in call.session.history.items
        )

    await eventually(answered, 30, "the typed VIN's answer")
    await call.end()
    await call.close()

    events = logged(app, room)
    [lookup] = of(events, "VehicleLookedUp")
    assert (lookup.vin, lookup.found, lookup.channel) == (TYPED, True, "typed")
    assert lookup.vin_as_said == TYPED
    [typed] = of(events, "FinalTranscriptRecorded")
    assert typed.text == f"I typed my VIN on the page: {TYPED}"
    assert [t.name for t in of(events, "ToolCalled")] == ["lookup_vehicle"]


class SlowInventory(DealershipServices):
    """The real services, with an inventory search that takes `delay_s`."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def search_inventory(self, *args: object, **kwargs: object) -> dict[str, object]:
        time.sleep(self.delay_s)
        return super().search_inventory(*args, **kwargs)  # type: ignore[arg-type]


async def _ask_for_a_make(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers, delay_s: float
) -> list[str]:
    room = f"call-filler-{int(delay_s * 1000)}"
    call = Call(
        room_name=room,
        session_key=f"job-filler-{delay_s}",
        config=agent_config,
        app=app,
        providers=providers,
        services=SlowInventory(delay_s),
    )
    await call.open()
    await call.start()
    assert call.greeting is not None
    await call.greeting
    await call.session.run(user_input="do you have any Mazda cars")
    await call.end()
    await call.close()
    return [e.text for e in of(logged(app, room), "AgentReplied")]


async def test_a_slow_tool_gets_a_filler_and_a_quick_one_does_not(
    app: GroupCommitCallCenter, agent_config: AgentConfig, providers: Providers
) -> None:
    quick = await _ask_for_a_make(app, agent_config, providers, 0.0)
    assert FILLER not in quick and any("Mazda" in r for r in quick[1:]), quick
    slow = await _ask_for_a_make(app, agent_config, providers, 1.5)
    assert FILLER in slow, slow
    assert slow.index(FILLER) < next(i for i, r in enumerate(slow) if "Mazda" in r), slow

"""DealershipDialoguePolicy through the livekit-agents LLM interface."""

from __future__ import annotations

import json
from typing import Any

import pytest
from livekit.agents import Agent, AgentSession, RunContext, function_tool, llm
from livekit.agents.voice.run_result import RunResult

from adapters.vin import extract_vin
from adapters.voice.caller_details import extract_name, extract_phone, extract_time
from adapters.voice.dealership_nlu import parse_vehicle_query
from adapters.voice.dialogue_policy import PREAMBLES, DealershipDialoguePolicy


@function_tool
async def lookup_vehicle(vin: str) -> str:
    """Look a vehicle up by VIN."""
    return "{}"


@function_tool
async def search_inventory(
    make: str | None = None,
    model: str | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    year: int | None = None,
) -> str:
    """Search the stock list."""
    return "[]"


@function_tool
async def book_test_drive(
    customer_name: str, phone: str, preferred_time: str, vin: str | None = None
) -> str:
    """Book a test drive."""
    return "{}"


@function_tool
async def request_callback(
    customer_name: str, phone: str, preferred_time: str = "", topic: str = ""
) -> str:
    """Ask a salesperson to call back."""
    return "{}"


TOOLS: list[llm.Tool] = [lookup_vehicle, search_inventory, book_test_drive, request_callback]


def ctx_of(*turns: str) -> llm.ChatContext:
    """Alternating user/assistant turns, starting with the user."""
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="system", content="You are a car dealership voice agent.")
    for i, text in enumerate(turns):
        ctx.add_message(role="user" if i % 2 == 0 else "assistant", content=text)
    return ctx


async def run(
    ctx: llm.ChatContext, tools: list[llm.Tool] = TOOLS, **kwargs: Any
) -> list[llm.ChatChunk]:
    policy = DealershipDialoguePolicy()
    async with policy.chat(chat_ctx=ctx, tools=tools, **kwargs) as stream:
        return [chunk async for chunk in stream]


def calls(chunks: list[llm.ChatChunk]) -> list[llm.FunctionToolCall]:
    return [tc for c in chunks if c.delta for tc in c.delta.tool_calls]


def text(chunks: list[llm.ChatChunk]) -> str:
    return "".join(c.delta.content for c in chunks if c.delta and c.delta.content)


async def confirmed(said: str) -> llm.ChatContext:
    """The caller reads a VIN, hears it read back, and says it is right."""
    read_back = text(await run(ctx_of(said)))
    assert read_back.endswith("Is that right?"), read_back
    return ctx_of(said, read_back, "yes")


async def test_a_vin_read_back_and_confirmed_becomes_a_lookup_vehicle_call() -> None:
    read_back = await run(ctx_of("my VIN is 1HGCM82633A004352"))
    assert calls(read_back) == []
    assert text(read_back) == "I have 1 H G, C M 8, 2 6 3, 3 A, 0, 0 4 3 5 2. Is that right?"
    chunks = await run(await confirmed("my VIN is 1HGCM82633A004352"))
    [call] = calls(chunks)
    assert call.name == "lookup_vehicle"
    assert json.loads(call.arguments) == {"vin": "1HGCM82633A004352"}
    assert text(chunks) == PREAMBLES["lookup_vehicle"]


async def test_spoken_vin_from_pocketsphinx_is_understood() -> None:
    said = "my vin is one h g c m eight two six three three a zero zero four three five two"
    [call] = calls(await run(await confirmed(said)))
    assert json.loads(call.arguments) == {"vin": "1HGCM82633A004352"}


async def test_injected_vin_normaliser_is_used() -> None:
    seen: list[str] = []

    def normaliser(said: str) -> str:
        seen.append(said)
        return "1HGCM82633A004352"

    policy = DealershipDialoguePolicy(vin_normaliser=normaliser)
    stream = policy.chat(chat_ctx=ctx_of("the vin is 1 h g c m 8 2 6 3 3 a 0 0 4"), tools=TOOLS)
    response = await stream.collect()
    assert seen and response.text.startswith("I have 1 H G, C M 8")


async def test_price_question_becomes_a_search_inventory_call() -> None:
    [call] = calls(await run(ctx_of("any Toyota under 25000")))
    assert call.name == "search_inventory"
    assert json.loads(call.arguments) == {"make": "Toyota", "max_price": 25000}

    [call] = calls(await run(ctx_of("do you have a Honda Civic under thirty thousand")))
    assert json.loads(call.arguments) == {"make": "Honda", "model": "Civic", "max_price": 30000}


async def test_arguments_the_tool_does_not_declare_are_dropped() -> None:
    @function_tool(name="search_inventory")
    async def narrow_search(make: str) -> str:
        """Search by make only."""
        return "[]"

    [call] = calls(await run(ctx_of("a 2021 Toyota under $25,000"), tools=[narrow_search]))
    assert json.loads(call.arguments) == {"make": "Toyota"}


async def test_text_reply_describes_the_tool_output() -> None:
    ctx = ctx_of("any Toyota under 25000")
    [call] = calls(await run(ctx))
    ctx.add_message(role="assistant", content=PREAMBLES["search_inventory"])
    ctx.insert(llm.FunctionCall(call_id=call.call_id, name=call.name, arguments=call.arguments))
    vehicles = [
        {"make": "Toyota", "model": "Corolla", "year": 2021, "price": 18995, "mileage": 30000},
        {"make": "Toyota", "model": "Camry", "year": 2020, "price": 22995},
    ]
    ctx.insert(
        llm.FunctionCallOutput(
            call_id=call.call_id, name=call.name, output=json.dumps(vehicles), is_error=False
        )
    )
    chunks = await run(ctx)
    assert calls(chunks) == []
    reply = text(chunks)
    assert "2 matches" in reply and "2021 Toyota Corolla" in reply and "$18,995" in reply
    assert len([c for c in chunks if c.delta and c.delta.content]) >= 3  # streamed in groups


async def test_lookup_result_and_errors_are_described() -> None:
    ctx = await confirmed("my VIN is 1HGCM82633A004352")
    [call] = calls(await run(ctx))
    ctx.insert(llm.FunctionCall(call_id=call.call_id, name=call.name, arguments=call.arguments))
    out = {"found": True, "vehicle": {"year": 2003, "make": "Honda", "model": "Accord"}}
    ctx.insert(
        llm.FunctionCallOutput(
            call_id=call.call_id, name=call.name, output=json.dumps(out), is_error=False
        )
    )
    assert "2003 Honda Accord" in text(await run(ctx))

    ctx.items[-1] = llm.FunctionCallOutput(
        call_id=call.call_id, name=call.name, output="inventory is offline", is_error=True
    )
    assert text(await run(ctx)).startswith("Sorry")


async def test_same_input_same_output() -> None:
    a = await run(ctx_of("my VIN is 1HGCM82633A004352"))
    b = await run(ctx_of("my VIN is 1HGCM82633A004352"))
    assert [c.model_dump() for c in a] == [c.model_dump() for c in b]


async def test_only_tools_that_are_offered_are_called() -> None:
    chunks = await run(await confirmed("my VIN is 1HGCM82633A004352"), tools=[search_inventory])
    assert calls(chunks) == []
    assert "I have the VIN as 1 H G, C M 8" in text(chunks)
    chunks = await run(ctx_of("any Toyota under 25000"), tool_choice="none")
    assert calls(chunks) == []
    named: llm.ToolChoice = {"type": "function", "function": {"name": "lookup_vehicle"}}
    assert calls(await run(ctx_of("any Toyota under 25000"), tool_choice=named)) == []


async def test_usage_is_reported_in_the_final_chunk() -> None:
    chunks = await run(ctx_of("hello"))
    assert chunks[-1].usage is not None and chunks[-1].delta is None
    assert chunks[-1].usage.completion_tokens == len(text(chunks).split())
    assert all(c.usage is None for c in chunks[:-1])


async def test_persona_answers() -> None:
    assert "CME Auto Sales" in text(await run(llm.ChatContext.empty()))
    assert "looking for" in text(await run(ctx_of("hi there")))
    assert "open" in text(await run(ctx_of("what are your hours")))
    assert "lenders" in text(await run(ctx_of("do you offer financing")))


async def test_test_drive_booking_collects_name_phone_and_time() -> None:
    turns = ["I would like to book a test drive"]
    reply = text(await run(ctx_of(*turns)))
    assert "name" in reply
    turns += [reply, "my name is John Smith"]
    reply = text(await run(ctx_of(*turns)))
    assert "phone number" in reply
    turns += [reply, "my number is five five five one two three four"]
    reply = text(await run(ctx_of(*turns)))
    assert "day and time" in reply
    turns += [reply, "tomorrow at ten a m"]
    [call] = calls(await run(ctx_of(*turns)))
    assert call.name == "book_test_drive"
    assert json.loads(call.arguments) == {
        "customer_name": "John Smith",
        "phone": "5551234",
        "preferred_time": "tomorrow at 10 am",
    }


async def test_callback_with_details_in_one_turn() -> None:
    said = "please call me back, my name is Mary Johnson and my number is 555-212-1234"
    [call] = calls(await run(ctx_of(said)))
    assert call.name == "request_callback"
    args = json.loads(call.arguments)
    assert args["customer_name"] == "Mary Johnson" and args["phone"] == "5552121234"


async def test_yes_to_a_test_drive_offer_starts_the_booking() -> None:
    offer = "Good news, that one is on our lot. Would you like to book a test drive?"
    reply = text(await run(ctx_of("my vin is 1HGCM82633A004352", offer, "yes please")))
    assert "name for the test drive" in reply


async def test_agent_session_runs_the_tool_and_speaks_the_result() -> None:
    class Dealer(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="Car dealership agent.")

        @function_tool
        async def lookup_vehicle(self, context: RunContext[None], vin: str) -> str:
            """Look a vehicle up by VIN."""
            vehicle = {"vin": vin, "year": 2003, "make": "Honda", "model": "Accord"}
            return json.dumps({"found": True, "vehicle": vehicle})

    async with AgentSession[None](llm=DealershipDialoguePolicy()) as session:
        await session.start(Dealer())
        read_back = await session.run(user_input="my VIN is 1HGCM82633A004352")
        read_back.expect.next_event().is_message(role="assistant")
        read_back.expect.no_more_events()
        result: RunResult[None] = await session.run(user_input="yes, that's right")
        result.expect.next_event().is_message(role="assistant")
        result.expect.next_event().is_function_call(
            name="lookup_vehicle", arguments={"vin": "1HGCM82633A004352"}
        )
        result.expect.next_event().is_function_call_output()
        msg = result.expect.next_event().is_message(role="assistant")
        assert "2003 Honda Accord" in (msg.event().item.text_content or "")
        result.expect.no_more_events()


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("any toyota under twenty five thousand", {"make": "Toyota", "max_price": 25000}),
        (
            "Do you have a 2021 RAV4 between $20,000 and $30,000?",
            {
                "make": "Toyota",
                "model": "RAV4",
                "min_price": 20000,
                "max_price": 30000,
                "year": 2021,
            },
        ),
        (
            "a twenty twenty two honda accord under 30k",
            {"make": "Honda", "model": "Accord", "max_price": 30000, "year": 2022},
        ),
        ("anything over thirty thousand", {"min_price": 30000}),
        ("how much is the F-150", {"make": "Ford", "model": "F-150"}),
        ("my number is 555-1234", {}),
    ],
)
def test_vehicle_query_parsing(said: str, expected: dict[str, object]) -> None:
    assert parse_vehicle_query(said).as_arguments() == expected


def test_contact_and_vin_extraction() -> None:
    assert (
        extract_vin(
            "the vin is a one h g c m eight two six three three a zero zero four three five two"
        )
        == "1HGCM82633A004352"
    )
    assert extract_vin("my vin is one two three") is None
    assert extract_name("hi this is sarah, call me at 555 123 4567") == "Sarah"
    assert extract_phone("call me at 555 123 4567") == "5551234567"
    assert extract_time("friday at 3pm") == "friday at 3 pm"
    assert extract_time("at two thirty on monday") == "monday at 2:30"

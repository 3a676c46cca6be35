"""A VIN read aloud, through the dealership dialogue policy: whole dialogues, turn by turn,
with the lookup tool's real results (the demo inventory), as recognisers write speech."""

from __future__ import annotations

import json

import pytest
from livekit.agents import llm

from adapters.voice.dialogue_policy import DealershipDialoguePolicy
from adapters.voice.vin_capture import VinCapture, typed_vin_message
from apps.usecases.dealership import DealershipServices
from tests.voice.test_voice_dialogue_policy import TOOLS, calls, text

IN_STOCK = "WBA5R1C00TF734097"  # a 2026 BMW 330i in the demo inventory
READ_BACK = "I have W B A, 5 R 1, C 0 0, T F 7, 3 4 0 9 7. Is that right?"
# What the local recogniser heard when a caller read IN_STOCK out on the lot (issue 18).
HEARD_ON_THE_LOT = (
    "i want to talk i three on an is w b audi on want c zero zero t at at one three four "
    "zero i need at one"
)


class Dialogue:
    """A caller and the policy; `lookup_vehicle` runs the real use case."""

    def __init__(self) -> None:
        self.ctx = llm.ChatContext.empty()
        self.ctx.add_message(role="system", content="You are a car dealership voice agent.")
        self.looked_up: list[str] = []
        self.services = DealershipServices()

    async def say(self, said: str) -> str:
        """The agent's answer to `said` (after the tool's result, if it called one)."""
        self.ctx.add_message(role="user", content=said)
        reply, tool_calls = await self._turn()
        for call in tool_calls:
            if call.name != "lookup_vehicle":
                return reply  # the other tools are not this file's business
            vin = json.loads(call.arguments)["vin"]
            self.looked_up.append(vin)
            result = self.services.lookup_vehicle(vin).result
            self.ctx.insert(
                llm.FunctionCall(call_id=call.call_id, name=call.name, arguments=call.arguments)
            )
            self.ctx.insert(
                llm.FunctionCallOutput(
                    call_id=call.call_id, name=call.name, output=json.dumps(result), is_error=False
                )
            )
            reply, more = await self._turn()
            assert more == []
        return reply

    async def _turn(self) -> tuple[str, list[llm.FunctionToolCall]]:
        async with DealershipDialoguePolicy().chat(chat_ctx=self.ctx, tools=TOOLS) as stream:
            chunks = [chunk async for chunk in stream]
        reply = text(chunks)
        self.ctx.add_message(role="assistant", content=reply)
        return reply, calls(chunks)


async def test_the_vin_heard_on_the_lot_gets_a_request_to_read_it_in_groups() -> None:
    dialogue = Dialogue()
    reply = await dialogue.say(HEARD_ON_THE_LOT)
    assert reply.startswith("Sorry, I didn't catch all of that.")
    assert "three or four characters at a time" in reply and "type it on the page" in reply
    assert dialogue.looked_up == []

    # the caller then reads it in groups, the way recognisers write them
    assert await dialogue.say("w b a") == "W B A, got it. Go on, 14 more characters."
    assert await dialogue.say("five are one") == "5 R 1, got it. Go on, 11 more characters."
    assert (await dialogue.say("c zero zero")).startswith("C 0 0, got it.")
    assert (await dialogue.say("t f seven")).startswith("T F 7, got it.")
    assert await dialogue.say("three four oh nine seven") == READ_BACK
    assert dialogue.looked_up == []  # nothing is looked up before the caller confirms
    reply = await dialogue.say("yes that's right")
    assert dialogue.looked_up == [IN_STOCK]
    assert "on our lot: a 2026 BMW 330i" in reply


async def test_nato_words_as_in_spellings_and_double_digits_across_turns() -> None:
    dialogue = Dialogue()
    assert (await dialogue.say("my vin is whiskey bravo alpha")).startswith("W B A, got it.")
    assert (await dialogue.say("five, r for romeo, one")).startswith("5 R 1,")
    assert (await dialogue.say("c as in cat, double zero")).startswith("C 0 0,")
    assert (await dialogue.say("tango foxtrot seven")).startswith("T F 7,")
    assert await dialogue.say("three four zero niner seven") == READ_BACK
    await dialogue.say("correct")
    assert dialogue.looked_up == [IN_STOCK]


async def test_a_vin_said_in_one_breath_is_read_back_then_looked_up() -> None:
    dialogue = Dialogue()
    said = "the vin is w b a five r one c zero zero t f seven three four zero nine seven"
    assert await dialogue.say(said) == READ_BACK
    assert "on our lot" in await dialogue.say("yes")
    assert dialogue.looked_up == [IN_STOCK]


async def test_a_near_miss_is_asked_about_never_corrected() -> None:
    dialogue = Dialogue()
    # S for F, a typical mishearing: the check digit fails
    reply = await dialogue.say("the vin is W B A 5 R 1 C 0 0 T S 7 3 4 0 9 7")
    assert dialogue.looked_up == ["WBA5R1C00TS734097"]  # looked up as heard, not corrected
    assert reply == (
        "I heard W B A, 5 R 1, C 0 0, T S 7, 3 4 0 9 7, which isn't a valid VIN. "
        "Did you mean W B A, 5 R 1, C 0 0, T F 7, 3 4 0 9 7, the 2026 BMW 330i on our lot?"
    )
    reply = await dialogue.say("yes")
    assert dialogue.looked_up == ["WBA5R1C00TS734097", IN_STOCK]
    assert "a 2026 BMW 330i" in reply


async def test_a_valid_vin_not_in_stock_but_near_one_that_is_is_asked_about() -> None:
    # J for A keeps the check digit: only the inventory can tell
    dialogue = Dialogue()
    assert (
        await dialogue.say("w b j five r one c zero zero t f seven three four zero nine seven")
    ) == ("I have W B J, 5 R 1, C 0 0, T F 7, 3 4 0 9 7. Is that right?")
    reply = await dialogue.say("yes")
    assert dialogue.looked_up == ["WBJ5R1C00TF734097"]
    assert reply == (
        "I heard W B J, 5 R 1, C 0 0, T F 7, 3 4 0 9 7, which isn't on our lot. "
        "Did you mean W B A, 5 R 1, C 0 0, T F 7, 3 4 0 9 7, the 2026 BMW 330i on our lot?"
    )
    assert "a 2026 BMW 330i Base" in await dialogue.say("yeah")
    assert dialogue.looked_up == ["WBJ5R1C00TF734097", IN_STOCK]


async def test_a_near_miss_the_caller_rejects_starts_over() -> None:
    dialogue = Dialogue()
    await dialogue.say("the vin is w b a five r one c zero zero")
    reply = await dialogue.say("t f seven three four zero nine")
    assert reply.endswith("Go on, 1 more character.")  # a character went missing
    reply = await dialogue.say("that's it")
    assert "which is 16 characters, not 17. Did you mean W B A" in reply
    reply = await dialogue.say("no")
    assert reply.startswith("Sorry about that, let's start over.")
    assert dialogue.looked_up == ["WBA5R1C00TF73409"]  # the candidate was never looked up
    assert (await dialogue.say("w b a")).startswith("W B A, got it. Go on, 14 more")


async def test_a_valid_vin_not_in_stock_is_looked_up_and_said_so() -> None:
    dialogue = Dialogue()
    said = "my vin is one h g c m eight two six three three a zero zero four three five two"
    assert await dialogue.say(said) == (
        "I have 1 H G, C M 8, 2 6 3, 3 A, 0, 0 4 3 5 2. Is that right?"
    )
    reply = await dialogue.say("yep")
    assert dialogue.looked_up == ["1HGCM82633A004352"]
    assert "belongs to a 2003 Honda, but it isn't in our current inventory" in reply


async def test_an_invalid_vin_with_no_near_miss_is_asked_for_again() -> None:
    dialogue = Dialogue()
    reply = await dialogue.say("my vin is 1HGCM82633A004351")
    assert reply.startswith("I heard 1 H G, C M 8, 2 6 3, 3 A, 0, 0 4 3 5 1, which isn't a valid")
    assert "three or four characters at a time" in reply
    # still listening for the VIN: a bare "okay" is not taken as something else
    assert (await dialogue.say("okay")).startswith("Sure. Go ahead and read me the VIN")


async def test_start_over_forgets_what_was_read() -> None:
    dialogue = Dialogue()
    await dialogue.say("my vin is x y z one two")
    reply = await dialogue.say("sorry, let me start over")
    assert reply.startswith("Sure, let's start over.")
    await dialogue.say("w b a five r one")
    assert await dialogue.say("scratch that, w b a five r one c zero zero") == (
        "W B A, 5 R 1, C 0 0, got it. Go on, 8 more characters."
    )
    await dialogue.say("t f seven three four zero nine seven")
    assert dialogue.ctx.items[-1].text_content == READ_BACK  # type: ignore[union-attr]


async def test_a_read_back_the_caller_rejects_starts_over() -> None:
    dialogue = Dialogue()
    assert await dialogue.say("the vin is WBA5R1C00TF734097") == READ_BACK
    assert (await dialogue.say("no, that's wrong")).startswith("Sorry about that")
    assert dialogue.looked_up == []


async def test_a_vin_typed_on_the_page_is_looked_up_at_once() -> None:
    dialogue = Dialogue()
    reply = await dialogue.say(typed_vin_message("wba5r1c00tf734097"))
    assert dialogue.looked_up == [IN_STOCK]
    assert "a 2026 BMW 330i" in reply


async def test_phone_numbers_and_model_names_are_not_taken_for_a_vin() -> None:
    dialogue = Dialogue()
    assert "name" in await dialogue.say("I would like to book a test drive")
    assert "phone number" in await dialogue.say("my name is John Smith")
    assert "day and time" in await dialogue.say("my number is five five five one two three four")
    assert "Let me check" in await Dialogue().say("do you have a c r v under thirty thousand")
    assert dialogue.looked_up == []


@pytest.mark.parametrize(
    "said",
    [
        "Do you have a 2021 RAV4 between $20,000 and $30,000?",
        "I want a 2019 CX-5 or a 2020 X5 under 40k",
        "what about the 2023 Mazda CX5 AWD for 28k",
        "do you have a c r v or an r a v four or a c x five",
        "please call me back, my name is J R Smith and my number is 555-212-1234",
        "tomorrow at ten a m",
        "what is a VIN and where do I find it",
    ],
)
def test_what_is_not_a_vin_read_out_is_left_to_the_rest_of_the_policy(said: str) -> None:
    capture = VinCapture()
    capture.user_turn(said, prompt="What are you looking for today?")
    assert capture.step.kind == "none"


async def test_the_caller_may_leave_the_vin_for_something_else() -> None:
    dialogue = Dialogue()
    assert (await dialogue.say("my vin is w b a")).startswith("W B A, got it.")
    assert "Let me check" in await dialogue.say("any civic?")
    assert (await dialogue.say("my vin is w b a")).startswith("W B A, got it.")
    assert "read me the VIN" not in await dialogue.say("never mind")
    assert dialogue.looked_up == []


async def test_an_and_between_written_groups_is_an_n_when_the_check_digit_says_so() -> None:
    dialogue = Dialogue()
    assert await dialogue.say("my VIN is 1GNSK and KD4, SR626852") == (
        "I have 1 G N, S K N, K D 4, S R 6, 2 6 8 5 2. Is that right?"
    )
    await dialogue.say("yes")
    assert dialogue.looked_up == ["1GNSKNKD4SR626852"]


async def test_a_vin_read_in_one_breath_with_a_character_lost_is_asked_about() -> None:
    dialogue = Dialogue()
    # the recogniser wrote "one one" as one 1: the caller is done, not pausing
    reply = await dialogue.say("The VIN is 1FTFW1E50RF12937.")
    assert dialogue.looked_up == ["1FTFW1E50RF12937"]
    assert reply.endswith(
        "Did you mean 1 F T, F W 1, E 5 0, R F 1, 1 2 9 3 7, the 2024 Ford F-150 on our lot?"
    )
    await dialogue.say("yes")
    assert dialogue.looked_up == ["1FTFW1E50RF12937", "1FTFW1E50RF112937"]

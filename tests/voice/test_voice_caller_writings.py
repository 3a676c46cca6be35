"""What a caller said, as Whisper and pocketsphinx write it: phone numbers, times, plural
and spelled model names, price caps. (Examples written for these tests; the bench's
held-out dialogues stay out of them.)"""

from __future__ import annotations

import json

import pytest

from adapters.voice.caller_details import extract_phone, extract_time, phone_complete
from adapters.voice.dealership_nlu import parse_vehicle_query, spoken_forms
from adapters.voice.vocabulary import strip_prompt_echo
from tests.voice.test_voice_dialogue_policy import calls, ctx_of, run, text


@pytest.mark.parametrize(
    "said",
    [
        "you can call me at 720-441-8650",
        "(720) 441-8650",
        "it's 7, 2, 0, 4, 4, 1, 8, 6, 5, 0",
        "my cell is 72044, 186, 50",  # Whisper's grouping of a digit-by-digit read-out
        "my cell is 7.2. 0441865 0",  # ... and its pauses written as decimal points
        "seven two oh double four one eight six five oh",
        "it's 720, for, 4, 1, 8, 6, 5, 0",  # a digit's sound-alike between digits
        "seven two zero four four one eight six five zero",
    ],
)
def test_a_phone_number_in_every_writing(said: str) -> None:
    assert extract_phone(said) == "7204418650"


@pytest.mark.parametrize(
    ("said", "time"),
    [
        ("Thursday at 4 p.m.", "thursday at 4 pm"),
        ("Thursday at 4 PM.", "thursday at 4 pm"),
        ("thursday at four p m", "thursday at 4 pm"),
        ("Thursday, 4pm works", "thursday at 4 pm"),
        ("how about 9 a.m. on Monday", "monday at 9 am"),
        ("monday at nine in the morning", "monday at 9 am"),
        ("Monday at 9M.", "monday at 9 am"),  # Whisper's clipped "a m"
        ("monday around nine thirty", "monday at 9:30"),
        ("sunday at seven o'clock", "sunday at 7"),
        ("tomorrow morning", "tomorrow morning"),
        ("saturday at noon", "saturday at noon"),
    ],
)
def test_a_time_in_every_writing(said: str, time: str) -> None:
    assert extract_time(said) == time


def test_a_phone_number_is_not_a_time() -> None:
    assert extract_time("reach me at 5 5 5 2 1 2 9") is None


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("do you sell Tacomas", {"make": "Toyota", "model": "Tacoma"}),
        ("two honda pilots", {"make": "Honda", "model": "Pilot"}),
        ("any c x fives", {"make": "Mazda", "model": "CX-5"}),
        ("the mazda cx five", {"make": "Mazda", "model": "CX-5"}),
        ("the CX-5", {"make": "Mazda", "model": "CX-5"}),
        ("an e v six", {"make": "Kia", "model": "EV6"}),
        ("the ioniq five", {"make": "Hyundai", "model": "Ioniq 5"}),
        ("a rav four", {"make": "Toyota", "model": "RAV4"}),
        (
            "no more than $24,000 for a camry",
            {"make": "Toyota", "model": "Camry", "max_price": 24000},
        ),
        ("a sedan not more than twenty four thousand", {"max_price": 24000}),
        ("at most 24k", {"max_price": 24000}),
        ("twenty four thousand or less", {"max_price": 24000}),
        ("a jeep, 24 grand tops", {"make": "Jeep", "max_price": 24000}),
        ("more than twenty four thousand", {"min_price": 24000}),
        # an amount after "for" is a budget, unless a cap is said outright too
        ("a kia for 24k", {"make": "Kia", "max_price": 24000}),
        ("a kia 9K for, under 24,000", {"make": "Kia", "max_price": 24000}),
    ],
)
def test_vehicle_requests_in_every_writing(said: str, expected: dict[str, object]) -> None:
    assert parse_vehicle_query(said).as_arguments() == expected


def test_spoken_forms_of_a_model_name() -> None:
    assert spoken_forms("CX-5") == {"cx 5", "cx5", "cx five", "c x 5", "c x5", "c x five"}
    assert "model three" in spoken_forms("Model 3")


BOOKING = [
    "I'd like to test drive a pickup",
    "I can set that up. May I have your name for the test drive?",
    "my name is Ruth Okafor",
    "Thanks, Ruth Okafor. What's the best phone number for the test drive?",
]


async def test_a_phone_number_a_digit_short_is_asked_for_again_never_booked() -> None:
    assert not phone_complete("720441865") and phone_complete("7204418650")
    turns = [*BOOKING, "it's 720-44-1865"]
    reply = text(await run(ctx_of(*turns)))
    assert reply.startswith("I got 7 2, 0 4 4, 1 8 6 5, which is 9 digits.")
    turns += [reply, "seven two zero four four one eight six five zero"]
    assert "day and time" in text(await run(ctx_of(*turns)))


async def test_the_answer_to_a_booking_question_is_taken_whatever_else_was_heard() -> None:
    # a model name misheard into the phone number's turn does not start a search
    chunks = await run(ctx_of(*BOOKING, "Corolla 7, 2, 0, 4, 4, 1, 8, 6, 5, 0."))
    assert calls(chunks) == []
    assert "day and time" in text(chunks)


async def test_a_booking_is_made_with_whispers_writings() -> None:
    turns = [
        *BOOKING,
        "My cell is 72044, 186, 50.",
        "What day and time would you like for the test drive?",
        "Thursday, 4pm.",
    ]
    [call] = calls(await run(ctx_of(*turns)))
    assert call.name == "book_test_drive"
    assert json.loads(call.arguments) == {
        "customer_name": "Ruth Okafor",
        "phone": "7204418650",
        "preferred_time": "thursday at 4 pm",
    }


def test_whisper_reciting_its_prompt_is_not_taken_for_the_caller() -> None:
    assert strip_prompt_echo("CME Auto Sales,") == ""
    assert strip_prompt_echo("Yes, go ahead. I'm CME Auto Sales.") == "Yes, go ahead."
    assert strip_prompt_echo("Sunday at 2 PM.") == "Sunday at 2 PM."
    assert strip_prompt_echo("the Toyota Corolla and RAV4") == "the Toyota Corolla and RAV4"


async def test_a_turn_that_was_only_the_prompt_recited_is_asked_again() -> None:
    reply = text(await run(ctx_of(*BOOKING[:2], "CME Auto Sales,")))
    assert reply == "Sorry, I didn't catch that. Could you say it again?"

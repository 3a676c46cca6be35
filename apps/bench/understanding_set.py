"""The held-out speech of `callcenter bench understanding`: sentences, dialogues, voices.

Written for the bench and kept out of every tuning input: none of the sentences is in the
pocketsphinx corpus (`adapters/voice/data/dealership_corpus.txt`), the agent's prompt,
Whisper's decoding prompt or the tests (`tests/bench/test_bench_understanding.py` checks
it). References are written as a caller says them: numbers and VIN characters in words, and
no "dollars" after an amount (Whisper writes "$40,000" whether or not it was said).
The voices are none the project was developed with: not the agent's Piper voice, not
espeak-ng's default en-us (the pocketsphinx LM's tuning voice), not festival's SLT (the
Whisper tests' caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# engine:name, synthesised by apps.bench.understanding_audio
VOICES = (
    "festival:kal_diphone",  # American male diphone voice (festvox-kallpc16k)
    "festival:ked_diphone",  # American male diphone voice (festvox-kdlpc16k)
    "espeak:en-gb",  # espeak-ng, British
    "espeak:en-us+f3",  # espeak-ng, American with a female variant
)
CONDITIONS = ("clean", "noise", "telephone")

SENTENCES: tuple[str, ...] = (
    "good morning i saw a gray subaru outback on your website last night",
    "is the white tesla model three still for sale",
    "could you tell me how many miles are on the black ford escape",
    "i am trying to find a small suv that is good on gas",
    "what is the cheapest pickup truck you have right now",
    "my wife wants something with a third row of seats",
    "do you have any electric cars under forty thousand",
    "i would rather not spend more than eighteen thousand",
    "does the kia telluride come with leather seats",
    "how late is the service department open on thursdays",
    "can somebody email me the price of the hyundai tucson",
    "my daughter is starting college and needs a reliable first car",
    "i was wondering if the price on the nissan frontier is negotiable",
    "we need a vehicle that can tow a small boat",
    "is there a warranty on the used honda pilot",
    "i will be driving in from about an hour away",
    "what color is the twenty twenty three mazda three",
    "could you hold the chevrolet tahoe until saturday",
    "i already have a loan approved through my credit union",
    "the car i am interested in is parked near the front entrance",
    "can i bring my mechanic to look at the toyota tacoma",
    "how much would my monthly payment be on the kia sportage",
    "i think the one i want has a sunroof and a blue interior",
    "is anybody there i can talk to about the jeep",
    "my old car just broke down so i need something fast",
    "please text me the address of the dealership",
    "i prefer an automatic transmission with all wheel drive",
    "are the prices on your website the final prices",
    "can you check whether the bmw x five has a clean history report",
    "my cell number is four one five five five five zero one eight two",
    "i could stop by wednesday around four thirty in the afternoon",
    "the last time i bought a car it took all day",
    "i am looking for something under twelve thousand with low mileage",
    "we are deciding between the rav four and the cr v",
    "do you buy cars even if i do not purchase one from you",
    "what documents should i bring when i come in",
    "i heard you have a sale going on this weekend",
    "is the silverado a crew cab or a regular cab",
    "my budget is around twenty two thousand out the door",
    "could you tell the salesman that i will be a little late",
)


@dataclass(frozen=True)
class Dialogue:
    """A caller's turns, and the tool call that would mean the agent understood them.

    `expected` lists only the arguments the caller gave; a call matches when each of them
    is equal (names compared without case, the rest as the tool receives them).
    """

    kind: str  # "vin lookup", "inventory search", "test drive booking"
    turns: tuple[str, ...]
    tool: str
    expected: dict[str, Any] = field(default_factory=dict)


def _vin(vin: str) -> dict[str, Any]:
    return {"vin": vin}


def _booking(name: str, phone: str, time: str) -> dict[str, Any]:
    return {"customer_name": name, "phone": phone, "preferred_time": time}


LOOKUP, SEARCH, BOOK = "lookup_vehicle", "search_inventory", "book_test_drive"

# fmt: off
DIALOGUES: tuple[Dialogue, ...] = (
    # --- VINs read off a windscreen: in one breath, in groups, in spelling words
    Dialogue("vin lookup", (
        "hi there i am looking at one of your cars online",
        "the vin is w b a five r one c zero zero t f seven three four zero nine seven",
    ), LOOKUP, _vin("WBA5R1C00TF734097")),
    Dialogue("vin lookup", (
        "can you pull up vin number five u x t y five c zero zero n n "
        "four five six five three eight",
    ), LOOKUP, _vin("5UXTY5C00NN456538")),
    Dialogue("vin lookup", (
        "i have a vin for you",
        "one g one f z six s zero zero p four two five one eight two four",
    ), LOOKUP, _vin("1G1FZ6S00P4251824")),
    Dialogue("vin lookup", (
        "the vin on the sticker is three g n a x u e v four s l eight seven three five five one",
    ), LOOKUP, _vin("3GNAXUEV4SL873551")),
    Dialogue("vin lookup", (
        "please look up this vin, one f m c u nine, g six x r u, two nine nine two three six",
    ), LOOKUP, _vin("1FMCU9G6XRU299236")),
    Dialogue("vin lookup", (
        "my vin is two h k r s four h seven eight s h nine four nine six nine seven",
    ), LOOKUP, _vin("2HKRS4H78SH949697")),
    Dialogue("vin lookup", (
        "could you check the vin kilo mike eight kilo romeo delta alpha foxtrot "
        "seven november uniform two zero one zero two six",
    ), LOOKUP, _vin("KM8KRDAF7NU201026")),
    Dialogue("vin lookup", (
        "vin number five x y p five d h c zero s g five four two four three zero",
    ), LOOKUP, _vin("5XYP5DHC0SG542430")),
    Dialogue("vin lookup", (
        "the vin is j m three k f b c m two j zero seven eight seven six one one",
    ), LOOKUP, _vin("JM3KFBCM2J0787611")),
    Dialogue("vin lookup", (
        "i want to ask about a truck",
        "its vin is one n six e d one e k three s n one two two three eight one",
    ), LOOKUP, _vin("1N6ED1EK3SN122381")),
    Dialogue("vin lookup", (
        "here is the vin, j f two s k a j c six t h three four four zero eight four",
    ), LOOKUP, _vin("JF2SKAJC6TH344084")),
    Dialogue("vin lookup", (
        "vin please, five y j three e one e a six r f one eight five seven one one",
    ), LOOKUP, _vin("5YJ3E1EA6RF185711")),
    # --- inventory questions: make and model, sometimes a budget
    Dialogue("inventory search", (
        "are there any subaru foresters on the lot",
    ), SEARCH, {"make": "Subaru", "model": "Forester"}),
    Dialogue("inventory search", (
        "do you happen to have a toyota tundra",
    ), SEARCH, {"make": "Toyota", "model": "Tundra"}),
    Dialogue("inventory search", (
        "i am after a used hyundai elantra",
    ), SEARCH, {"make": "Hyundai", "model": "Elantra"}),
    Dialogue("inventory search", (
        "what kind of nissan rogue do you have for me",
    ), SEARCH, {"make": "Nissan", "model": "Rogue"}),
    Dialogue("inventory search", (
        "show me your chevrolet malibu please",
    ), SEARCH, {"make": "Chevrolet", "model": "Malibu"}),
    Dialogue("inventory search", (
        "got any ford mustangs for less than thirty five thousand",
    ), SEARCH, {"make": "Ford", "model": "Mustang", "max_price": 35000}),
    Dialogue("inventory search", (
        "i need a kia forte for no more than twenty thousand",
    ), SEARCH, {"make": "Kia", "model": "Forte", "max_price": 20000}),
    Dialogue("inventory search", (
        "hello, quick question for you folks",
        "is there a tesla model y in stock",
    ), SEARCH, {"make": "Tesla", "model": "Model Y"}),
    Dialogue("inventory search", (
        "what mazda cx five models are available",
    ), SEARCH, {"make": "Mazda", "model": "CX-5"}),
    Dialogue("inventory search", (
        "any bmw you can show me",
    ), SEARCH, {"make": "BMW"}),
    Dialogue("inventory search", (
        "looking for a honda accord below forty grand",
    ), SEARCH, {"make": "Honda", "model": "Accord"}),
    # --- test drives: the slots one turn at a time, or several in one turn
    Dialogue("test drive booking", (
        "i would love to test drive the kia telluride",
        "my name is daniel lee",
        "my phone number is three one two five five five zero one four seven",
        "saturday at eleven a m",
    ), BOOK, _booking("Daniel Lee", "3125550147", "saturday at 11 am")),
    Dialogue("test drive booking", (
        "can i set up a test drive",
        "my name is karen white",
        "you can reach me on six one seven five five five two nine eight three",
        "friday at three p m",
    ), BOOK, _booking("Karen White", "6175552983", "friday at 3 pm")),
    Dialogue("test drive booking", (
        "i want to come in for a test drive this week",
        "my name is peter hall",
        "four zero four five five five six six one two",
        "thursday at two p m",
    ), BOOK, _booking("Peter Hall", "4045556612", "thursday at 2 pm")),
    Dialogue("test drive booking", (
        "is it possible to test drive the ford explorer",
        "my name is susan miller",
        "my number is two zero six five five five one seven seven zero",
        "monday at nine a m works for me",
    ), BOOK, _booking("Susan Miller", "2065551770", "monday at 9 am")),
    Dialogue("test drive booking", (
        "i'd like a test drive of the subaru crosstrek please",
        "my name is tom baker",
        "seven one three five five five four zero eight eight",
        "tomorrow at four p m",
    ), BOOK, _booking("Tom Baker", "7135554088", "tomorrow at 4 pm")),
    Dialogue("test drive booking", (
        "could we arrange a test drive",
        "my name is nancy young and my number is five zero three five five five "
        "two two one nine",
        "wednesday at ten a m",
    ), BOOK, _booking("Nancy Young", "5035552219", "wednesday at 10 am")),
    Dialogue("test drive booking", (
        "i am ready to test drive the honda civic",
        "my name is kevin scott",
        "my cell is eight one eight five five five three three four one",
        "sunday at one p m",
    ), BOOK, _booking("Kevin Scott", "8185553341", "sunday at 1 pm")),
    Dialogue("test drive booking", (
        "please book me a test drive",
        "my name is laura adams",
        "my phone is nine one nine five five five seven zero three six",
        "tuesday at eleven a m",
    ), BOOK, _booking("Laura Adams", "9195557036", "tuesday at 11 am")),
    Dialogue("test drive booking", (
        "my son wants to test drive the toyota tacoma",
        "my name is gary clark",
        "six zero two five five five eight one one five",
        "saturday at ten a m",
    ), BOOK, _booking("Gary Clark", "6025558115", "saturday at 10 am")),
    Dialogue("test drive booking", (
        "when could i test drive the chevrolet equinox",
        "my name is helen wright",
        "my number is eight zero one five five five nine four two zero",
        "friday at noon",
    ), BOOK, _booking("Helen Wright", "8015559420", "friday at noon")),
)
# fmt: on

#: The agent reads a heard VIN back in groups and looks it up only once the caller confirms
#: (adapters/voice/vin_capture.py): a caller reading a VIN says yes to the read-back.
CONFIRMATION = "yes go ahead and check it"
DIALOGUES = tuple(
    Dialogue(d.kind, (*d.turns, CONFIRMATION), d.tool, d.expected) if d.kind == "vin lookup" else d
    for d in DIALOGUES
)

# --quick: a few of each
QUICK_SENTENCES = SENTENCES[:3]
QUICK_VOICES = VOICES[:1]
QUICK_DIALOGUES = (DIALOGUES[1], DIALOGUES[13], DIALOGUES[28])

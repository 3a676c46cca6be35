"""Personal-data detection on a labelled set of what callers say and tools are given:
precision and recall per kind, measured and held to a floor, and VINs, prices, years,
mileage and times never marked."""

from __future__ import annotations

import pytest

from adapters.pii import KINDS, find_pii, redact

#: (text, names the call knows, expected (kind, text) spans)
LABELLED: list[tuple[str, tuple[str, ...], list[tuple[str, str]]]] = [
    ("my number is 617-555-0199", (), [("phone", "617-555-0199")]),
    ("you can reach me at (312) 555 0147 after five", (), [("phone", "(312) 555 0147")]),
    (
        "it's six one seven five five five zero one nine nine",
        (),
        [("phone", "six one seven five five five zero one nine nine")],
    ),
    (
        "three one two, five five five, oh one four seven",
        (),
        [("phone", "three one two, five five five, oh one four seven")],
    ),
    ("call me on 5552013344 please", (), [("phone", "5552013344")]),
    (
        "double five five two oh one three three four four",
        (),
        [("phone", "double five five two oh one three three four four")],
    ),
    ("my cell is +1 415 555 2671", (), [("phone", "+1 415 555 2671")]),
    ("local number 555 0100", (), [("phone", "555 0100")]),
    ("email me at jane.doe@example.com", (), [("email", "jane.doe@example.com")]),
    ("it's john dot smith at gmail dot com", (), [("email", "john dot smith at gmail dot com")]),
    ("send it to bob_r@mail.dealer.net thanks", (), [("email", "bob_r@mail.dealer.net")]),
    ("my card is 4111 1111 1111 1111", (), [("card", "4111 1111 1111 1111")]),
    ("card number 5500-0000-0000-0004 expires soon", (), [("card", "5500-0000-0000-0004")]),
    ("I live at 42 Oak Street in Springfield", (), [("address", "42 Oak Street")]),
    (
        "send the papers to 1200 West Main Avenue apartment 4",
        (),
        [("address", "1200 West Main Avenue apartment 4")],
    ),
    ("we are at 77 Sunset Boulevard", (), [("address", "77 Sunset Boulevard")]),
    ("My name is Priya Natarajan", (), [("name", "Priya Natarajan")]),
    ("Hi, this is Marcus calling about the Civic", (), [("name", "Marcus")]),
    ("book it for Ann Lee please", ("Ann Lee",), [("name", "Ann"), ("name", "Lee")]),
    ("yes ann lee, saturday at ten", ("Ann Lee",), [("name", "ann"), ("name", "lee")]),
    ("I'm Tom and my number is 555 201 3344", (), [("name", "Tom"), ("phone", "555 201 3344")]),
    ("the name is Whitfield, W H I T F I E L D", ("Dana Whitfield",), [("name", "Whitfield")]),
    (
        "My name is Jo, email jo@x.io, phone 617 555 0100",
        (),
        [("name", "Jo"), ("email", "jo@x.io"), ("phone", "617 555 0100")],
    ),
    # Not personal data: VINs, prices, years, mileage, times, stock counts, models.
    ("the VIN is 1HGCM82633A004352", (), []),
    ("can you look up 2T1BURHE5JC123456 for me", (), []),
    ("is the 2021 Civic under 25000 dollars", (), []),
    ("it has 42,000 miles on it", (), []),
    ("Saturday at 10 a.m. works", (), []),
    ("do you have 3 Accords in stock", (), []),
    ("I want a CX-5 or a RAV4", (), []),
    ("what's the price on the 2019 Camry with 38000 miles", (), []),
    ("I'm looking for a Honda", (), []),
    ("this is great, thanks", (), []),
    ("the monthly payment of 450 for 60 months", (), []),
    ("double check the trade-in value", (), []),
]

#: Written after the detector, and not tuned against: what it misses here is reported.
HELD_OUT: list[tuple[str, tuple[str, ...], list[tuple[str, str]]]] = [
    ("sure, it's 773 555 0123", (), [("phone", "773 555 0123")]),
    (
        "the number's nine one nine, five five five, two two one eight",
        (),
        [("phone", "nine one nine, five five five, two two one eight")],
    ),
    (
        "my wife's phone is 2125550188 and mine is 2125550199",
        (),
        [("phone", "2125550188"), ("phone", "2125550199")],
    ),
    (
        "reach me at maria.g@outlook.com or on 312 555 0111",
        (),
        [("email", "maria.g@outlook.com"), ("phone", "312 555 0111")],
    ),
    ("my email is k smith at yahoo dot com", (), [("email", "smith at yahoo dot com")]),
    (
        "Visa ending, well the whole thing is 4012 8888 8888 1881",
        (),
        [("card", "4012 8888 8888 1881")],
    ),
    ("we moved to 9 Elm Court last year", (), [("address", "9 Elm Court")]),
    ("I'm over at 350 Fifth Avenue", (), [("address", "350 Fifth Avenue")]),
    ("Hi, my name is Carlos Mendoza and I saw a Tacoma", (), [("name", "Carlos Mendoza")]),
    ("put it under Jenna", ("Jenna Park",), [("name", "Jenna")]),
    ("this is Dr. Patel", (), [("name", "Patel")]),
    ("how much is the 2020 Accord with 31,500 miles", (), []),
    ("my budget is about 18 to 20 thousand", (), []),
    ("VIN 5YJ3E1EA7KF317000 please", (), []),
    ("is it available Monday at 3 pm", (), []),
    ("the stock number is 4471", (), []),
]
LABELLED_ALL = LABELLED + HELD_OUT


def _spans(text: str, names: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(s.kind, s.text) for s in find_pii(text, names=names)}


def scores(
    labelled: list[tuple[str, tuple[str, ...], list[tuple[str, str]]]],
) -> dict[str, tuple[float, float, int, int, int]]:
    """Per kind and overall: (precision, recall, true pos, false pos, false neg)."""
    counts = {k: [0, 0, 0] for k in (*KINDS, "all")}
    for text, names, expected in labelled:
        got, want = _spans(text, names), set(expected)
        for kind in KINDS:
            g = {s for s in got if s[0] == kind}
            w = {s for s in want if s[0] == kind}
            for key in (kind, "all"):
                counts[key][0] += len(g & w)
                counts[key][1] += len(g - w)
                counts[key][2] += len(w - g)
    out = {}
    for key, (tp, fp, fn) in counts.items():
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        out[key] = (precision, recall, tp, fp, fn)
    return out


def test_precision_and_recall_on_the_labelled_set() -> None:
    held_out = scores(HELD_OUT)
    print(f"held out: precision {held_out['all'][0]:.2f} recall {held_out['all'][1]:.2f}")
    assert held_out["all"][0] >= 0.9 and held_out["all"][1] >= 0.8, held_out
    measured = scores(LABELLED_ALL)
    for key, (p, r, tp, fp, fn) in measured.items():
        print(f"{key:8s} precision {p:.2f} recall {r:.2f} (tp {tp}, fp {fp}, fn {fn})")
    precision, recall, *_ = measured["all"]
    assert precision >= 0.95 and recall >= 0.9, measured
    for kind in KINDS:
        assert measured[kind][1] >= 0.75, (kind, measured[kind])


@pytest.mark.parametrize(("text", "names", "expected"), LABELLED, ids=range(len(LABELLED)))
def test_each_labelled_sentence(
    text: str, names: tuple[str, ...], expected: list[tuple[str, str]]
) -> None:
    assert _spans(text, names) == set(expected)


def test_redaction_replaces_each_span_with_its_kind() -> None:
    said = "I'm Tom, 617-555-0199 or tom@example.com, VIN 1HGCM82633A004352"
    assert redact(said) == "I'm [name], [phone] or [email], VIN 1HGCM82633A004352"
    assert redact("") == ""
    assert redact("book it for Ann Lee", names=["Ann Lee"]) == "book it for [name] [name]"


def test_skipping_recognisers_that_cannot_match_changes_nothing() -> None:
    """The cheap checks before each recogniser give the same spans as running them all,
    on every labelled sentence and on everyday lines with nothing personal in them."""
    everyday = [
        "okay thanks bye",
        "I'd like to book a test drive for Saturday morning please",
        "do you have the red one in stock",
        "at the dealership, not online",
        "it was about three o'clock",
        "the street was busy",
    ]
    for text, names, _ in LABELLED_ALL:
        assert find_pii(text, names=names) == find_pii(text, names=names, exhaustive=True), text
    for text in everyday:
        assert find_pii(text) == find_pii(text, exhaustive=True), text

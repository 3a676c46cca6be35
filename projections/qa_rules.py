"""The QA scorecard: each rule is one function of a call's facts, declared with `@rule`.

A rule reads the call's `insight_calls` row (the facts `projections/insight.py` folds from
the events: see `INSIGHT_CALLS` for what each column holds) and returns whether the call
passed and why, in a sentence. A rule that does not apply to a call passes, saying so.
Rules run when the call ends (and again if a fact arrives after the end), so a rebuild of
the `insight` projection scores every past call with the rules as they are now.
See "Adding a QA rule" in the README.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Facts = dict[str, Any]

#: A greeting, found in the agent's first words.
GREETINGS = ("welcome", "cme auto sales", "hello", "good morning", "good afternoon")
#: The longest silence a call may have.
MAX_SILENCE_S = 10.0
#: The slowest the 95th percentile of the caller-hears-the-reply latency may be.
MAX_P95_TURN_LATENCY_S = 3.0
#: How soon a supervisor must take a call whose caller asked for a person.
MAX_ESCALATION_WAIT_S = 30.0


@dataclass(frozen=True)
class Rule:
    name: str
    check: Callable[[Facts], tuple[bool, str]]


#: Every rule, in the order the scorecard lists them.
RULES: list[Rule] = []


def rule(name: str) -> Callable[[Callable[[Facts], tuple[bool, str]]], Rule]:
    """Declares a QA rule named `name` (the `rule` of `GET /api/conversations/{id}/insight`)."""

    def declare(check: Callable[[Facts], tuple[bool, str]]) -> Rule:
        if any(r.name == name for r in RULES):
            raise ValueError(f"QA rule {name!r} is declared twice")
        declared = Rule(name, check)
        RULES.append(declared)
        return declared

    return declare


def score(facts: Facts) -> list[dict[str, Any]]:
    """Every rule's verdict on one call: `[{"rule", "passed", "reason"}]`."""
    out = []
    for r in RULES:
        passed, reason = r.check(facts)
        out.append({"rule": r.name, "passed": bool(passed), "reason": reason})
    return out


def p95(values: list[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# --- the rules -----------------------------------------------------------------------------


@rule("greeted")
def greeted(f: Facts) -> tuple[bool, str]:
    first = f["first_reply"]
    if first is None:
        return False, "the agent never spoke"
    if any(word in first.lower() for word in GREETINGS):
        return True, f"the agent's first words greet the caller: {first[:60]!r}"
    return False, f"the agent's first words are no greeting: {first[:60]!r}"


@rule("vin_validated_before_quoted")
def vin_validated_before_quoted(f: Facts) -> tuple[bool, str]:
    if f["vin_problems"]:
        return False, f["vin_problems"][0]
    if not f["vehicles"] and not any(b["vin"] for b in f["bookings"]):
        return True, "not applicable: no vehicle was quoted by VIN"
    return True, "every VIN quoted or booked had a valid check digit when looked up"


@rule("booking_read_back")
def booking_read_back(f: Facts) -> tuple[bool, str]:
    bookings = f["bookings"]
    if not bookings:
        return True, "not applicable: no test drive was booked"
    missed = [b for b in bookings if not b["read_back"]]
    if missed:
        b = missed[0]
        return False, (
            f"no reply after booking {b['booking_id']} repeated its time ({b['preferred_time']!r})"
        )
    return True, f"every booking's time was read back to the caller ({len(bookings)})"


@rule("no_long_silence")
def no_long_silence(f: Facts) -> tuple[bool, str]:
    longest = f["longest_silence_s"]
    if longest is None:
        return True, "no silence was reported"
    if longest > MAX_SILENCE_S:
        return False, f"a silence lasted {longest:.1f} s (over {MAX_SILENCE_S:g} s)"
    return True, f"the longest silence was {longest:.1f} s (at most {MAX_SILENCE_S:g} s)"


@rule("turn_latency_p95")
def turn_latency_p95(f: Facts) -> tuple[bool, str]:
    latencies = f["turn_latencies"]
    if not latencies:
        return True, "not applicable: no turn latency was measured"
    worst = p95(latencies)
    limit = MAX_P95_TURN_LATENCY_S
    verdict = "at most" if worst <= limit else "over"
    return worst <= limit, (
        f"p95 turn latency {worst:.2f} s over {len(latencies)}"
        f" turn{'' if len(latencies) == 1 else 's'} ({verdict} {limit:g} s)"
    )


@rule("escalation_answered")
def escalation_answered(f: Facts) -> tuple[bool, str]:
    waits, missed = f["escalation_waits"], f["escalations_missed"]
    if not waits and not missed and f["waiting_since"] is None:
        return True, "not applicable: the caller did not ask for a person"
    if missed:
        return False, f"nobody took the call before the escalation expired ({missed}×)"
    if f["waiting_since"] is not None:
        return False, "the caller asked for a person and nobody took the call"
    slowest = max(waits)
    if slowest > MAX_ESCALATION_WAIT_S:
        return (
            False,
            f"a supervisor took the call after {slowest:.1f} s (over {MAX_ESCALATION_WAIT_S:g} s)",
        )
    return True, f"a supervisor took the call within {slowest:.1f} s"

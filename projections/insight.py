"""Post-call insight: a summary, the customer's sentiment per turn and per call, and the
QA scorecard (`projections/qa_rules.py`), for every call the log holds.

`insight_calls` keeps one row of facts per call, folded cheaply event by event; the QA
verdicts are computed from that row when the call ends (and again if a fact arrives after
the end) into `insight_qa`. Only the customer's final lines are scored, into
`insight_turns`. Rebuilding the projection (`callcenter projections rebuild insight`)
computes all of it again for every past call, with the rules as they are now.
"""

from __future__ import annotations

from typing import Any

from domain import events as ev
from projections import qa_rules
from projections.base import ReadModel, handles, occurred
from projections.search import outcomes_of
from projections.sentiment import sentiment_label, sentiment_score
from projections.store import RowStore
from projections.tables import Row, TableSpec

INSIGHT_CALLS = TableSpec(
    name="insight_calls",
    columns=(
        ("conversation_id", "uuid"),
        ("room_name", "text"),
        ("opened_at", "timestamptz"),
        ("ended_at", "timestamptz"),
        ("end_reason", "text"),
        ("duration_s", "double precision"),
        # the customer's sentiment: the mean VADER score of their final lines
        ("customer_turns", "integer"),
        ("sentiment_total", "double precision"),
        ("sentiment", "double precision"),
        ("sentiment_label", "text"),
        # the facts the summary and the QA rules read
        ("first_reply", "text"),  # the agent's first words (at most 200 characters)
        ("lookups", "integer"),
        ("vehicles", "jsonb"),  # found by VIN: [{"vin", "year", "make", "model"}]
        ("valid_vins", "jsonb"),  # VINs whose check digit held when looked up
        ("vin_problems", "jsonb"),  # [sentence]: a VIN quoted or booked unvalidated
        (
            "bookings",
            "jsonb",
        ),  # [{"booking_id", "customer_name", "preferred_time", "vin", "read_back"}]
        ("callbacks", "jsonb"),  # [{"callback_id", "customer_name", "preferred_time", "topic"}]
        ("escalations", "integer"),  # asked for a person, or taken by a supervisor
        ("waiting_since", "timestamptz"),  # asked for a person, nobody took the call yet
        ("escalation_waits", "jsonb"),  # [seconds from the ask to a supervisor's takeover]
        ("escalations_missed", "integer"),  # escalations that expired
        ("longest_silence_s", "double precision"),
        ("turn_latencies", "jsonb"),  # [end-to-end seconds of each measured turn]
        # an LLM's summary, when one was recorded (`CallSummarised`)
        ("llm_summary", "text"),
        ("llm_model", "text"),
    ),
    key=("conversation_id",),
)

INSIGHT_TURNS = TableSpec(
    name="insight_turns",
    columns=(
        ("conversation_id", "uuid"),
        ("position", "bigint"),
        ("offset_s", "double precision"),
        ("text", "text"),
        ("score", "double precision"),
        ("label", "text"),
    ),
    key=("conversation_id", "position"),
    prefetch=False,
)

INSIGHT_QA = TableSpec(
    name="insight_qa",
    columns=(
        ("conversation_id", "uuid"),
        ("rule", "text"),
        ("ordinal", "integer"),  # the rule's place in the scorecard
        ("passed", "boolean"),
        ("reason", "text"),
    ),
    key=("conversation_id", "rule"),
    indexes=("rule, passed",),
)

FIRST_REPLY_CHARS = 200
OUTCOME_WORDS = {
    "booking": "test drive booked",
    "vehicle_found": "vehicle found",
    "callback": "callback requested",
    "escalated": "escalated to a person",
    "abandoned": "abandoned",
}


def _compact(text: str) -> str:
    """Letters and digits only, lower case: "Saturday, 10 AM" reads as "saturday10am"."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


class InsightProjection(ReadModel):
    name = "insight"
    tables = (INSIGHT_CALLS, INSIGHT_TURNS, INSIGHT_QA)

    def _call(self, event: Any, store: RowStore) -> Row:
        row = store.get(INSIGHT_CALLS, (event.originator_id,))
        if row is None:
            row = INSIGHT_CALLS.blank(
                conversation_id=event.originator_id,
                room_name=getattr(event, "room_name", None),
                opened_at=occurred(event),
                customer_turns=0,
                sentiment_total=0.0,
                lookups=0,
                vehicles=[],
                valid_vins=[],
                vin_problems=[],
                bookings=[],
                callbacks=[],
                escalations=0,
                escalation_waits=[],
                escalations_missed=0,
                turn_latencies=[],
            )
        return row

    def _save(self, row: Row, store: RowStore) -> None:
        store.put(INSIGHT_CALLS, row)
        if row["ended_at"] is not None:
            cid = row["conversation_id"]
            for ordinal, verdict in enumerate(qa_rules.score(row)):
                store.put(INSIGHT_QA, {"conversation_id": cid, "ordinal": ordinal, **verdict})

    @handles(ev.Opened)
    def on_opened(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["room_name"] = e.room_name
        store.put(INSIGHT_CALLS, row)

    @handles(ev.CallEnded)
    def on_call_ended(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["ended_at"] = occurred(e)
        row["end_reason"] = e.reason
        row["duration_s"] = e.duration_s
        self._save(row, store)

    @handles(ev.CallSummarised)
    def on_call_summarised(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["llm_summary"], row["llm_model"] = e.text, e.model
        store.put(INSIGHT_CALLS, row)  # no QA rule reads it

    @handles(ev.FinalTranscriptRecorded)
    def on_final(self, e: Any, position: int, store: RowStore) -> None:
        if e.speaker != "customer":
            return  # only the customer's sentiment is scored
        row = self._call(e, store)
        score = sentiment_score(e.text)
        label = sentiment_label(score)
        row["customer_turns"] += 1
        row["sentiment_total"] += score
        row["sentiment"] = round(row["sentiment_total"] / row["customer_turns"], 4)
        row["sentiment_label"] = sentiment_label(row["sentiment"])
        self._save(row, store)
        store.put(
            INSIGHT_TURNS,
            {
                "conversation_id": e.originator_id,
                "position": position,
                "offset_s": max(0.0, (occurred(e) - row["opened_at"]).total_seconds()),
                "text": e.text,
                "score": score,
                "label": label,
            },
        )

    @handles(ev.AgentReplied)
    def on_agent_replied(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        changed = False
        if row["first_reply"] is None and e.text:
            row["first_reply"] = e.text[:FIRST_REPLY_CHARS]
            changed = True
        if any(not b["read_back"] for b in row["bookings"]):
            said = _compact(e.text)
            bookings = []
            for b in row["bookings"]:
                if not b["read_back"] and _compact(b["preferred_time"]) in said:
                    b = {**b, "read_back": True}
                    changed = True
                bookings.append(b)
            row["bookings"] = bookings
        if changed:
            self._save(row, store)

    @handles(ev.VehicleLookedUp)
    def on_vehicle_looked_up(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["lookups"] += 1
        if e.check_digit_valid and e.vin not in row["valid_vins"]:
            row["valid_vins"] = [*row["valid_vins"], e.vin]
        if e.found:
            vehicle = e.vehicle or {}
            if all(v["vin"] != e.vin for v in row["vehicles"]):
                row["vehicles"] = [
                    *row["vehicles"],
                    {
                        "vin": e.vin,
                        "year": vehicle.get("year"),
                        "make": vehicle.get("make"),
                        "model": vehicle.get("model"),
                    },
                ]
            if not e.check_digit_valid:
                row["vin_problems"] = [
                    *row["vin_problems"],
                    f"vehicle {e.vin} was quoted though its check digit is not valid",
                ]
        self._save(row, store)

    @handles(ev.TestDriveBooked)
    def on_test_drive_booked(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["bookings"] = [
            *row["bookings"],
            {
                "booking_id": e.booking_id,
                "customer_name": e.customer_name,
                "preferred_time": e.preferred_time,
                "vin": e.vin,
                "read_back": not _compact(e.preferred_time),  # no time: nothing to repeat
            },
        ]
        if e.vin and e.vin not in row["valid_vins"]:
            row["vin_problems"] = [
                *row["vin_problems"],
                f"booking {e.booking_id} names VIN {e.vin}, not validated by a lookup first",
            ]
        self._save(row, store)

    @handles(ev.CallbackRequested)
    def on_callback_requested(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["callbacks"] = [
            *row["callbacks"],
            {
                "callback_id": e.callback_id,
                "customer_name": e.customer_name,
                "preferred_time": e.preferred_time,
                "topic": e.topic,
            },
        ]
        self._save(row, store)

    @handles(ev.HumanRequested)
    def on_human_requested(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["escalations"] += 1
        if row["waiting_since"] is None:
            row["waiting_since"] = occurred(e)
        self._save(row, store)

    @handles(ev.SupervisorTookOver)
    def on_took_over(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["escalations"] += 1
        if row["waiting_since"] is not None:
            waited = max(0.0, (occurred(e) - row["waiting_since"]).total_seconds())
            row["escalation_waits"] = [*row["escalation_waits"], waited]
            row["waiting_since"] = None
        self._save(row, store)

    @handles(ev.EscalationExpired)
    def on_escalation_expired(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        row["escalations_missed"] += 1
        row["waiting_since"] = None
        self._save(row, store)

    @handles(ev.SilenceDetected, ev.SilenceEnded)
    def on_silence(self, e: Any, position: int, store: RowStore) -> None:
        row = self._call(e, store)
        longest = row["longest_silence_s"]
        if longest is None or e.silent_for_s > longest:
            row["longest_silence_s"] = e.silent_for_s
            self._save(row, store)

    @handles(ev.TurnLatencyMeasured)
    def on_turn_measured(self, e: Any, position: int, store: RowStore) -> None:
        if e.end_to_end_s is None:
            return
        row = self._call(e, store)
        row["turn_latencies"] = [*row["turn_latencies"], e.end_to_end_s]
        self._save(row, store)


# --- the summary ---------------------------------------------------------------------------


def _vehicle_name(v: dict[str, Any]) -> str:
    words = [str(v[k]) for k in ("year", "make", "model") if v.get(k)]
    return " ".join(words) or v["vin"]


def next_step(call: Row) -> str:
    """What the dealership does next, from the call's outcomes."""
    if call["bookings"]:
        b = call["bookings"][-1]
        return f"Test drive with {b['customer_name']} {b['preferred_time']}".strip()
    if call["callbacks"]:
        cb = call["callbacks"][-1]
        about = f" about {cb['topic']}" if cb["topic"] else ""
        return f"Call {cb['customer_name']} back {cb['preferred_time']}{about}".replace("  ", " ")
    if call["escalations_missed"] or call["waiting_since"] is not None:
        return "Call the customer back: they asked for a person and nobody took the call"
    if call["vehicles"]:
        return f"Follow up on the {_vehicle_name(call['vehicles'][-1])}"
    return "None"


def summary_of(call: Row) -> dict[str, Any]:
    """The deterministic summary of one call's facts, and the LLM's when one was recorded."""
    outcome = outcomes_of(
        {
            "bookings": len(call["bookings"]),
            "vehicles_found": len(call["vehicles"]),
            "callbacks": len(call["callbacks"]),
            "escalations": call["escalations"],
        },
        ended=call["ended_at"] is not None,
    )
    said = ", ".join(OUTCOME_WORDS[o] for o in outcome) or "call in progress"
    parts = [f"Outcome: {said}."]
    if call["vehicles"]:
        parts.append(f"Vehicles: {', '.join(_vehicle_name(v) for v in call['vehicles'])}.")
    for b in call["bookings"]:
        parts.append(f"Test drive for {b['customer_name']}, {b['preferred_time']}.")
    parts.append(f"Next step: {next_step(call)}.")
    return {
        "outcome": outcome,
        "vehicles": call["vehicles"],
        "bookings": [{k: v for k, v in b.items() if k != "read_back"} for b in call["bookings"]],
        "callbacks": call["callbacks"],
        "next_step": next_step(call),
        "text": " ".join(parts),
        "llm": (
            None
            if call["llm_summary"] is None
            else {"text": call["llm_summary"], "model": call["llm_model"]}
        ),
    }

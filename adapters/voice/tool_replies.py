"""What the dealership dialogue policy says about a tool's result, once it is in the
conversation: one or two spoken sentences, never the JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.spoken_vin import say_vin

from .vin_capture import ASK_IN_GROUPS, describe_candidates

LOOKUP_VEHICLE = "lookup_vehicle"
SEARCH_INVENTORY = "search_inventory"
BOOK_TEST_DRIVE = "book_test_drive"
REQUEST_CALLBACK = "request_callback"


def say_digits(digits: str) -> str:
    # spaced digit groups make TTS read a phone number digit by digit
    groups = [digits[:-7], digits[-7:-4], digits[-4:]]
    return ", ".join(" ".join(g) for g in groups if g)


def _money(value: Any) -> str:
    try:
        return f"${int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def _vehicle_phrase(v: Mapping[str, Any]) -> str:
    """'a 2022 Honda Civic EX in Blue with 12,000 miles for $23,995'."""
    name = " ".join(str(v[k]) for k in ("year", "make", "model", "trim") if v.get(k))
    text = f"a {name}" if name else "a vehicle"
    if v.get("color"):
        text += f" in {v['color']}"
    if isinstance(v.get("mileage"), int) and v["mileage"] > 100:
        text += f" with {v['mileage']:,} miles"
    if v.get("price") is not None:
        text += f" for {_money(v['price'])}"
    return text


def _vehicles(data: Any) -> list[Mapping[str, Any]]:
    """Vehicle records in a tool result, whatever its envelope."""
    if isinstance(data, list):
        return [d for d in data if isinstance(d, Mapping)]
    if not isinstance(data, Mapping):
        return []
    for key in ("vehicles", "results", "matches", "items", "inventory"):
        if isinstance(data.get(key), list):
            return [d for d in data[key] if isinstance(d, Mapping)]
    if isinstance(data.get("vehicle"), Mapping):
        return [data["vehicle"]]
    if "make" in data and "model" in data and data.get("found") is not False:
        return [data]
    return []


def describe_tool_result(
    name: str, arguments: Mapping[str, Any], output: str, *, is_error: bool
) -> str:
    """One spoken sentence or two about a tool result."""
    try:
        data: Any = json.loads(output)
    except (json.JSONDecodeError, TypeError):
        data = output
    message = data.get("message") or data.get("error") if isinstance(data, Mapping) else None
    if is_error:
        detail = message or str(data)[:160]
        return f"Sorry, I couldn't complete that: {detail}. Could we try again?"
    if name == LOOKUP_VEHICLE:
        return _describe_lookup(data, message, arguments)
    if name == SEARCH_INVENTORY:
        return _describe_search(data)
    if name in (BOOK_TEST_DRIVE, REQUEST_CALLBACK):
        args = {**arguments, **(data if isinstance(data, Mapping) else {})}
        customer = str(args.get("customer_name") or "").strip()
        who = f", {customer}" if customer else ""
        when = str(args.get("preferred_time") or "").strip()
        if name == BOOK_TEST_DRIVE:
            slot = f" for {when}" if when else ""
            return (
                f"You're all set{who}. Your test drive is booked{slot}. "
                "Is there anything else I can help with?"
            )
        phone = "".join(c for c in str(args.get("phone") or "") if c.isdigit())
        at = f" at {say_digits(phone)}" if phone else ""
        slot = f", {when}" if when else ""
        return f"Thanks{who}. Someone from our sales team will call you back{at}{slot}."
    if isinstance(data, str):
        return data
    return message or "All done. Is there anything else I can help with?"


def _describe_lookup(data: Any, message: Any, args: Mapping[str, Any]) -> str:
    found = _vehicles(data)
    if found:
        return (
            f"Good news, that one is on our lot: {_vehicle_phrase(found[0])}. "
            "Would you like to book a test drive?"
        )
    if isinstance(data, Mapping) and (question := _ask_about_near_misses(data, args)):
        return question
    decoded = data.get("decoded") if isinstance(data, Mapping) else None
    if isinstance(decoded, Mapping) and (decoded.get("make") or decoded.get("year")):
        desc = " ".join(str(decoded[k]) for k in ("year", "make") if decoded.get(k))
        return (
            f"That VIN belongs to a {desc}, but it isn't in our current inventory. "
            "Would you like me to look for something similar?"
        )
    if isinstance(data, Mapping) and data.get("error"):
        heard = str(data.get("vin") or args.get("vin") or "")
        return f"I heard {say_vin(heard)}, {_invalid_because(data, heard)}. {ASK_IN_GROUPS}"
    if message:
        return f"Hmm, {message}. Could you read the VIN to me again?"
    return (
        "I couldn't find that VIN in our inventory. "
        "Would you like me to search for something similar?"
    )


def _describe_search(data: Any) -> str:
    found = _vehicles(data)
    if not found:
        return (
            "I don't have anything matching that right now. Would you like me to widen "
            "the search, or have a salesperson call you when something comes in?"
        )
    if len(found) == 1:
        return f"I have one: {_vehicle_phrase(found[0])}. Would you like to book a test drive?"
    return (
        f"I found {len(found)} matches. The best priced is {_vehicle_phrase(found[0])}, "
        f"and there's also {_vehicle_phrase(found[1])}. Would you like to book a test drive?"
    )


def _ask_about_near_misses(data: Mapping[str, Any], args: Mapping[str, Any]) -> str | None:
    candidates = data.get("candidates")
    if not isinstance(candidates, list):
        return None
    heard = str(data.get("vin") or args.get("vin") or "")
    reason = _invalid_because(data, heard) if data.get("error") else "which isn't on our lot"
    return describe_candidates(heard, reason, [c for c in candidates if isinstance(c, Mapping)])


def _invalid_because(data: Mapping[str, Any], heard: str) -> str:
    if data.get("error") == "length":
        return f"which is {len(heard)} characters, not 17"
    return "which isn't a valid VIN"

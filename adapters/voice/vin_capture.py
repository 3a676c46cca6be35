"""Taking a VIN down over the phone, for the local dialogue policy.

The caller may read it in one breath or in groups over several turns, say "start over",
or type it on the customer page. The state is not kept anywhere: it is folded again from
the conversation each turn (the user turns, the agent's last words before each, and the
`lookup_vehicle` calls and results), like the rest of the policy. What the fold says about
the latest user turn (`VinStep`) is what the policy acts on:

- a spoken VIN is read back in groups and looked up once the caller says it is right;
- a VIN that is invalid as heard goes to `lookup_vehicle` as heard, whose result names
  near misses in stock; exactly one is proposed as a question, never looked up unasked;
- a VIN typed on the page is exact, and looked up at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adapters.spoken_vin import Heard, after_start_over, hear, say_vin, says_done
from adapters.vin import VIN_LENGTH, VinNormaliser, check_digit_ok, normalise_vin

from .dealership_nlu import has_phrase, mentions_vin, parse_vehicle_query

# The agent's own questions, recognised again in the next turn's context.
READ_BACK_QUESTION = "Is that right?"
PROPOSAL_OPENING = "Did you mean"

# How a VIN typed on the customer page reaches the conversation (apps/agent adds it).
TYPED_VIN_PREFIX = "I typed my VIN on the page:"

_YES = ("yes", "yeah", "yep", "yup", "correct", "that's right", "thats right", "right", "sure")
_NO = ("no", "nope", "wrong", "that's wrong", "not right", "incorrect")
_MOVING_ON = ("never mind", "nevermind", "forget it", "forget the vin", "cancel", "not now")

StepKind = Literal[
    "none",  # nothing to do with a VIN
    "typed",  # a VIN typed on the page: look it up
    "confirmed",  # the caller said yes to a read-back or a proposal: look it up
    "complete",  # 17 characters with a valid check digit: read them back
    "check",  # all the caller will say, but not a valid VIN: look it up as heard
    "partial",  # some characters so far: say them, ask for the rest
    "garbled",  # a VIN read out, but too much else heard: ask for it slowly
    "denied",  # the caller said the read-back or the proposal was wrong
    "restart",  # the caller asked to start over
    "asked",  # the caller mentioned a VIN but read none of it
]


@dataclass(frozen=True)
class VinStep:
    kind: StepKind
    vin: str = ""  # what to look up or read back
    heard: str = ""  # the characters this turn added
    so_far: str = ""  # every character collected


def typed_vin_message(vin: str) -> str:
    return f"{TYPED_VIN_PREFIX} {vin}"


def _typed_vin(text: str) -> str | None:
    if not text.startswith(TYPED_VIN_PREFIX):
        return None
    return normalise_vin(text[len(TYPED_VIN_PREFIX) :]) or None


def _yes(text: str) -> bool:
    return has_phrase(text, *_YES) and not has_phrase(text, *_NO)


def _best_window(chars: str) -> str | None:
    """A 17-character stretch with a valid check digit (fillers come before a VIN)."""
    windows = [chars[i : i + VIN_LENGTH] for i in range(len(chars) - VIN_LENGTH + 1)]
    return next((w for w in reversed(windows) if check_digit_ok(w)), None)


# A VIN read in one breath that came out this many characters short lost them in the
# recogniser (Whisper writes "five five five" as "55"): the caller is done, and the
# lookup's near misses say which car it was. Read in groups, it is a pause.
_MAX_LOST = 2


def _one_breath_short(said: str, so_far: str) -> bool:
    return len(said) >= VIN_LENGTH - _MAX_LOST and len(so_far) < VIN_LENGTH


def _read_out(text: str, heard: Heard) -> bool:
    """A VIN read out unasked, and not a model spelled out ("a c r v or an r a v four")."""
    return heard.looks_like_a_vin and parse_vehicle_query(text).model is None


class VinCapture:
    """The fold: feed it the conversation in order, then read `step`."""

    def __init__(self, normaliser: VinNormaliser = normalise_vin) -> None:
        self._normaliser = normaliser
        self.collecting = False
        self.chars = ""
        self._read_back: str | None = None
        self._proposal: str | None = None
        self.step = VinStep("none")

    def looked_up(self) -> None:
        """A `lookup_vehicle` call: whatever was being taken down has been used."""
        self.collecting, self.chars, self._read_back = False, "", None

    def lookup_result(self, output: str) -> None:
        """Exactly one near miss in stock, and the VIN itself not found: it will be asked
        about. An invalid VIN with no single near miss: the caller is asked to read it again."""
        try:
            data: Any = json.loads(output)
        except (json.JSONDecodeError, TypeError):
            return
        if not isinstance(data, dict) or data.get("found"):
            return
        candidates = data.get("candidates")
        if isinstance(candidates, list) and len(candidates) == 1:
            first = candidates[0]
            vin = first.get("vin") if isinstance(first, dict) else first
            self._proposal = str(vin) if vin else None
        elif data.get("error"):  # the caller was asked to read it again
            self.collecting = True

    def user_turn(self, text: str, prompt: str) -> None:
        """One caller turn; `prompt` is what the agent said just before it."""
        self.step = self._step(text, prompt)

    def _step(self, text: str, prompt: str) -> VinStep:
        if typed := _typed_vin(text):
            self.looked_up()
            return VinStep("typed", vin=typed)
        pending = None
        if prompt.endswith(READ_BACK_QUESTION):
            pending = self._read_back
        elif prompt.startswith(PROPOSAL_OPENING) or f". {PROPOSAL_OPENING}" in prompt:
            pending = self._proposal
        self._read_back = self._proposal = None
        heard = hear(text, self._normaliser)
        if pending and _yes(text) and not heard.chars:
            self.looked_up()
            return VinStep("confirmed", vin=pending)
        rest = after_start_over(text)
        if pending and has_phrase(text, *_NO) or rest is not None:
            self.collecting, self.chars = True, ""
            if rest is not None:
                heard = hear(rest, self._normaliser)
            if not heard.chars:
                return VinStep("denied" if rest is None else "restart")
        elif not (self.collecting or mentions_vin(text) or _read_out(text, heard)):
            return VinStep("none")
        return self._collect(text, heard)

    def _collect(self, text: str, heard: Heard) -> VinStep:
        if heard.garbled:
            self.collecting = True
            return VinStep("garbled", so_far=self.chars)
        if not heard.chars:
            if self.chars and says_done(text):
                return self._check(self.chars)
            if has_phrase(text, "what is", "what's", "where"):
                return VinStep("none")  # a question about VINs, not one read out
            moving_on = has_phrase(text, *_MOVING_ON) or not parse_vehicle_query(text).is_empty()
            if not moving_on and (mentions_vin(text) or len(text.split()) <= 4):
                self.collecting = True
                return VinStep("asked", so_far=self.chars)
            self.collecting, self.chars = False, ""  # on to something else
            return VinStep("none")
        self.collecting = True
        said = heard.chars
        if heard.alternative and _best_window(self.chars + heard.alternative):
            said = heard.alternative  # "00 and N4": the check digit says "and" was an N
        self.chars += said
        if len(self.chars) < VIN_LENGTH:
            if says_done(text) or _one_breath_short(said, self.chars):
                return self._check(self.chars)
            return VinStep("partial", heard=said, so_far=self.chars)
        if vin := _best_window(self.chars):
            so_far, self.collecting, self.chars = self.chars, False, ""
            self._read_back = vin  # a yes looks it up; reading it again starts afresh
            return VinStep("complete", vin=vin, so_far=so_far)
        return self._check(self.chars)

    def _check(self, chars: str) -> VinStep:
        self.looked_up()
        return VinStep("check", vin=chars, so_far=chars)


# --- wording ------------------------------------------------------------------------------

ASK_IN_GROUPS = (
    "Could you read me the VIN slowly, three or four characters at a time? "
    "You can also type it on the page."
)


def reply_for(step: VinStep) -> str:
    """What to say for a step that is not a lookup."""
    if step.kind == "complete":
        return f"I have {say_vin(step.vin)}. {READ_BACK_QUESTION}"
    if step.kind == "partial":
        left = VIN_LENGTH - len(step.so_far)
        more = "character" if left == 1 else "characters"
        return f"{say_vin(step.heard)}, got it. Go on, {left} more {more}."
    if step.kind == "garbled":
        return f"Sorry, I didn't catch all of that. {ASK_IN_GROUPS}"
    if step.kind == "denied":
        return f"Sorry about that, let's start over. {ASK_IN_GROUPS}"
    if step.kind == "restart":
        return "Sure, let's start over. Go ahead with the VIN, a few characters at a time."
    if step.so_far:
        return f"I have {say_vin(step.so_far)} so far. Go on with the rest of the VIN."
    return "Sure. Go ahead and read me the VIN, three or four characters at a time."


def describe_candidates(
    heard: str, reason: str, candidates: Sequence[Mapping[str, Any]]
) -> str | None:
    """The question to ask about near misses after a lookup, or None if there are none."""
    if not candidates:
        return None
    if len(candidates) == 1:
        car = candidates[0]
        what = " ".join(str(car[k]) for k in ("year", "make", "model") if car.get(k))
        on_lot = f", the {what} on our lot" if what else ""
        return (
            f"I heard {say_vin(heard)}, {reason}. "
            f"{PROPOSAL_OPENING} {say_vin(str(car['vin']))}{on_lot}?"
        )
    return (
        f"I heard {say_vin(heard)}, {reason}, and it is close to {len(candidates)} cars "
        f"on our lot. {ASK_IN_GROUPS}"
    )

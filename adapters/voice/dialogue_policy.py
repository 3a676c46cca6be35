"""A deterministic dealership dialogue policy behind the livekit-agents ``llm.LLM`` API.

It stands in for a cloud LLM when no key is configured: it reads the chat context,
calls the agent's tools (``lookup_vehicle``, ``search_inventory``,
``book_test_drive``, ``request_callback``) when the caller asks for something they
serve, describes tool results once they are in the context, and otherwise answers
as a sales rep. Same context and tools in, same chunks out.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from livekit.agents import llm
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from adapters.spoken_vin import say_vin
from adapters.vin import VinNormaliser, normalise_vin

from .caller_details import extract_name, extract_phone, extract_time, phone_complete
from .coaching import follow, pending_guidance
from .dealership_nlu import has_phrase, parse_vehicle_query
from .policy_stream import Decision, PolicyStream, ReplyDecision, ToolCallDecision
from .tool_replies import (
    BOOK_TEST_DRIVE,
    LOOKUP_VEHICLE,
    REQUEST_CALLBACK,
    SEARCH_INVENTORY,
    describe_tool_result,
    say_digits,
)
from .vin_capture import VinCapture, VinStep, reply_for
from .vocabulary import strip_prompt_echo


@dataclass(frozen=True)
class DealershipInfo:
    """Facts the persona may state."""

    name: str = "CME Auto Sales"
    hours: str = "Monday to Saturday from 9 AM to 7 PM, and Sunday from 11 AM to 5 PM"
    address: str = ""


@dataclass(frozen=True)
class _Output:
    name: str
    arguments: dict[str, Any]
    output: str
    is_error: bool


# Spoken while a tool runs. Recognised again in the context, so a preamble is never
# mistaken for the description of a result (livekit orders these items by time, and
# the preamble can land after the tool output).
PREAMBLES: dict[str, str] = {
    LOOKUP_VEHICLE: "Thanks, let me look that VIN up.",
    SEARCH_INVENTORY: "Let me check our inventory.",
    BOOK_TEST_DRIVE: "Great, let me book that for you.",
    REQUEST_CALLBACK: "Sure, let me set that up.",
}


_BOOKING_NOUN = {BOOK_TEST_DRIVE: "test drive", REQUEST_CALLBACK: "callback"}
_INTENT_PHRASES: dict[str, tuple[str, ...]] = {
    BOOK_TEST_DRIVE: ("test drive", "test driving", "drive it"),
    REQUEST_CALLBACK: (
        "call me back", "call back", "callback", "give me a call", "have someone call",
        "a person", "a human", "a manager", "salesperson", "sales person", "someone in sales",
    ),
}  # fmt: skip
_YES = ("yes", "yeah", "yep", "sure", "okay", "ok", "please", "that works", "sounds good")
_CANCEL = ("no", "nope", "never mind", "nevermind", "cancel", "forget it", "not now")


#: What the assistant says while a slow tool runs (apps/agent/assistant.py): not an answer.
FILLER = "Let me check that."


def _is_preamble(text: str) -> bool:
    # an interrupted preamble is stored cut short, so a prefix counts too
    return any(p.startswith(text) for p in (*PREAMBLES.values(), FILLER))


@dataclass
class _Context:
    """What the policy needs from a chat context."""

    user_texts: list[str] = field(default_factory=list)  # every user turn, oldest first
    pending_outputs: list[_Output] = field(default_factory=list)
    answered: bool = False  # the agent already replied after the last user turn
    prompt: str = ""  # the agent's last words before the last user turn
    calls_after_user: dict[str, int] = field(default_factory=dict)  # tool -> #user turns
    known_vin: str | None = None
    unheard: bool = False  # the last user turn was only Whisper reciting its prompt
    vin: VinStep = field(default_factory=lambda: VinStep("none"))  # the last turn, VIN-wise


def _parse_args(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _read_context(chat_ctx: llm.ChatContext, capture: VinCapture) -> _Context:
    ctx = _Context()
    calls: dict[str, llm.FunctionCall] = {}
    outputs: list[llm.FunctionCallOutput] = []  # since the last user turn
    last_assistant = ""
    for item in chat_ctx.items:
        if isinstance(item, llm.ChatMessage):
            said = (item.text_content or "").strip()
            text = strip_prompt_echo(said) if item.role == "user" else said
            ctx.unheard = ctx.unheard if item.role != "user" else bool(said) and not text
            if item.role == "user" and text:
                ctx.user_texts.append(text)
                outputs = []
                ctx.answered = False
                ctx.prompt = last_assistant
                capture.user_turn(text, last_assistant)
            elif item.role == "assistant" and text:
                last_assistant = text
                ctx.answered = ctx.answered or not _is_preamble(text)
        elif isinstance(item, llm.FunctionCall):
            calls[item.call_id] = item
            ctx.calls_after_user[item.name] = len(ctx.user_texts)
            if item.name == LOOKUP_VEHICLE:
                ctx.known_vin = str(_parse_args(item.arguments).get("vin") or "") or None
                capture.looked_up()
        elif isinstance(item, llm.FunctionCallOutput):
            outputs.append(item)
            call = calls.get(item.call_id)
            if (item.name or (call.name if call else "")) == LOOKUP_VEHICLE:
                capture.lookup_result(item.output)
    ctx.vin = capture.step
    if ctx.answered:
        return ctx
    for out in outputs:
        call = calls.get(out.call_id)
        ctx.pending_outputs.append(
            _Output(
                name=out.name or (call.name if call else ""),
                arguments=_parse_args(call.arguments) if call else {},
                output=out.output,
                is_error=out.is_error,
            )
        )
    return ctx


def _answers(question: str, text: str) -> bool:
    """`text` gives what a booking question asked for: a name, a phone number, a time."""
    if "your name" in question:
        return extract_name(text) is not None
    if "phone number" in question:
        return extract_phone(text) is not None
    if "day and time" in question:
        return extract_time(text) is not None
    return False


class DealershipDialoguePolicy(llm.LLM[Literal["metrics_collected", "error"]]):
    """Deterministic rule-based replacement for a chat LLM in the voice agent."""

    def __init__(
        self,
        *,
        vin_normaliser: VinNormaliser = normalise_vin,
        info: DealershipInfo | None = None,
        words_per_chunk: int = 4,
        announce_tool_calls: bool = True,
    ) -> None:
        super().__init__()
        self._vin_normaliser = vin_normaliser
        self._info = info or DealershipInfo()
        self._words_per_chunk = max(1, words_per_chunk)
        self._announce = announce_tool_calls

    @property
    def model(self) -> str:
        return "dealership-policy"

    @property
    def provider(self) -> str:
        return "local"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> PolicyStream:
        return PolicyStream(
            self,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
            tool_choice=tool_choice,
        )

    # --- decisions ------------------------------------------------------------------

    def decide(self, chat_ctx: llm.ChatContext, tool_names: Collection[str]) -> Decision:
        """What to do next given the conversation and the callable tool names; a
        supervisor's "say:" or "offer:" guidance shapes the next reply."""
        decision = self._decide(chat_ctx, tool_names)
        guidance = pending_guidance(chat_ctx)
        if guidance is not None and isinstance(decision, ReplyDecision):
            return ReplyDecision(follow(decision.text, guidance))
        return decision

    def _decide(self, chat_ctx: llm.ChatContext, tool_names: Collection[str]) -> Decision:
        ctx = _read_context(chat_ctx, VinCapture(self._vin_normaliser))
        if ctx.pending_outputs:
            return ReplyDecision(" ".join(self._describe(o) for o in ctx.pending_outputs))
        if ctx.unheard:
            return ReplyDecision("Sorry, I didn't catch that. Could you say it again?")
        if not ctx.user_texts:
            return ReplyDecision(self._greeting())
        if ctx.answered:  # asked to speak again without new input (generate_reply)
            return ReplyDecision("Is there anything else I can help you with?")
        text = ctx.user_texts[-1]

        step = ctx.vin
        if step.kind in ("typed", "confirmed", "check"):
            if LOOKUP_VEHICLE in tool_names:
                return ToolCallDecision(
                    LOOKUP_VEHICLE, {"vin": step.vin}, PREAMBLES[LOOKUP_VEHICLE]
                )
            return ReplyDecision(
                f"Thanks, I have the VIN as {say_vin(step.vin)}. "
                "A sales specialist will check it and get back to you."
            )
        if step.kind != "none":
            return ReplyDecision(reply_for(step))

        intent = self._booking_intent(ctx)
        if intent is not None:
            return self._booking(intent, ctx, tool_names)

        query = parse_vehicle_query(text)
        if not query.is_empty():
            if SEARCH_INVENTORY in tool_names:
                return ToolCallDecision(
                    SEARCH_INVENTORY, query.as_arguments(), PREAMBLES[SEARCH_INVENTORY]
                )
            return ReplyDecision(
                "I'd love to help you find that. "
                "Let me have a salesperson call you with what we have. What's your name?"
            )
        return ReplyDecision(self._persona(text, first_turn=len(ctx.user_texts) == 1))

    def _booking_intent(self, ctx: _Context) -> str | None:
        """Test drive or callback: asked for now, or a booking we are collecting for.

        The flow's state lives in the conversation itself: every slot question ends
        with "for the test drive?" / "for the callback?", so no hidden memory is needed.
        """
        text = ctx.user_texts[-1]
        for tool, phrases in _INTENT_PHRASES.items():
            if has_phrase(text, *phrases):
                return tool
        for tool, what in _BOOKING_NOUN.items():
            # the answer to the slot asked, whatever else was heard with it ("Camry 3, 1, 2...")
            if ctx.prompt.endswith(f"for the {what}?") and _answers(ctx.prompt, text):
                return tool
        if parse_vehicle_query(text).as_arguments() or has_phrase(text, *_CANCEL):
            return None  # a fresh question or a "never mind" ends the booking
        for tool, what in _BOOKING_NOUN.items():
            if ctx.prompt.endswith(f"for the {what}?"):
                return tool
        if has_phrase(text, *_YES):
            if ctx.prompt.endswith("book a test drive?"):
                return BOOK_TEST_DRIVE
            if ctx.prompt.endswith("?") and has_phrase(ctx.prompt, "callback", "call you"):
                return REQUEST_CALLBACK
        return None

    def _booking(self, tool: str, ctx: _Context, tool_names: Collection[str]) -> Decision:
        name = phone = when = None
        for text in ctx.user_texts:  # later turns override earlier ones
            name = extract_name(text) or name
            phone = extract_phone(text) or phone
            when = extract_time(text) or when
        what = _BOOKING_NOUN[tool]
        if name is None:
            return ReplyDecision(f"I can set that up. May I have your name for the {what}?")
        if phone is None:
            return ReplyDecision(f"Thanks, {name}. What's the best phone number for the {what}?")
        if not phone_complete(phone):
            return ReplyDecision(
                f"I got {say_digits(phone)}, which is {len(phone)} digits. Could you say the "
                f"whole phone number again, with the area code, for the {what}?"
            )
        if when is None and tool == BOOK_TEST_DRIVE:
            return ReplyDecision(f"What day and time would you like for the {what}?")
        if tool not in tool_names:
            return ReplyDecision(
                f"Thanks, {name}. I've noted your {what} request and our team will "
                f"call you at {say_digits(phone)}."
            )
        args: dict[str, Any] = {"customer_name": name, "phone": phone}
        if tool == BOOK_TEST_DRIVE:
            args["preferred_time"] = when
            if ctx.known_vin:
                args["vin"] = ctx.known_vin
            return ToolCallDecision(tool, args, PREAMBLES[tool])
        args["preferred_time"] = when or "as soon as possible"
        args["topic"] = self._topic(ctx.user_texts)
        return ToolCallDecision(tool, args, PREAMBLES[tool])

    @staticmethod
    def _topic(user_texts: Sequence[str]) -> str:
        for text in reversed(user_texts):
            if has_phrase(text, "financing", "finance", "credit", "payment", "lease"):
                return "financing"
            if has_phrase(text, "trade in", "trade"):
                return "trade-in"
            if args := parse_vehicle_query(text).as_arguments():
                return "vehicle inquiry: " + ", ".join(f"{k}={v}" for k, v in args.items())
        return "general inquiry"

    # --- wording --------------------------------------------------------------------

    def _greeting(self) -> str:
        return (
            f"Thanks for calling {self._info.name}! I can check our inventory, look up "
            "a VIN, book a test drive or set up a callback. What are you looking for today?"
        )

    def _persona(self, text: str, *, first_turn: bool) -> str:
        info = self._info
        if has_phrase(text, "financing", "finance", "credit", "loan", "payment", "lease"):
            return (
                "We work with several lenders and have options for every credit situation. "
                "A finance specialist can go over rates and monthly payments with you. "
                "Would you like a callback from our finance team?"
            )
        if has_phrase(text, "hours", "open", "close", "closing"):
            return f"We're open {info.hours}. Is there a car you'd like to see?"
        if has_phrase(text, "where", "address", "located", "location", "directions"):
            if info.address:
                return f"We're at {info.address}. Would you like to book a visit?"
            return "I can have someone text you directions. Would you like a callback?"
        if has_phrase(text, "trade in", "trade", "sell my"):
            return (
                "We'd be happy to appraise your trade-in. Tell me its year, make and model, "
                "or bring it by and we'll give you an offer on the spot."
            )
        if has_phrase(text, "thank you", "thanks", "bye", "goodbye", "that's all"):
            return f"You're welcome! Thanks for calling {info.name}, and have a great day."
        if first_turn and has_phrase(text, "hello", "hi", "hey", "good morning", "good afternoon"):
            return self._greeting()
        if has_phrase(text, "yes", "yeah", "sure", "okay", "ok"):
            return "Great! Which make and model are you interested in, and what's your budget?"
        if has_phrase(text, "no", "nope", "not right now"):
            return "No problem. Is there anything else I can help you with?"
        return (
            "I can help you find a car, look up a VIN, book a test drive or arrange a "
            "callback. What are you looking for?"
        )

    @staticmethod
    def _describe(out: _Output) -> str:
        return describe_tool_result(out.name, out.arguments, out.output, is_error=out.is_error)

    def chunk_text(self, text: str) -> list[str]:
        """Word groups that concatenate back to ``text`` (spaces kept for TTS)."""
        ws = text.split()
        n = self._words_per_chunk
        groups = [" ".join(ws[i : i + n]) for i in range(0, len(ws), n)]
        return [g + (" " if i < len(groups) - 1 else "") for i, g in enumerate(groups)]

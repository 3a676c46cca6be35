"""The dealership's voice assistant: a sales persona with four function tools.

Tools call the same services as the HTTP API and record what they did as domain events
(a vehicle lookup, a test drive, a callback); each returns a JSON string for the LLM.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterable, Callable
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import Agent, ModelSettings, RunContext, function_tool, llm, stt
from livekit.agents.llm import StopResponse

from adapters.voice.dialogue_policy import FILLER
from apps.agent.facts import Facts
from apps.agent.supervision import SupervisorDesk
from apps.usecases.dealership import Booking, DealershipServices
from domain import commands as c

log = logging.getLogger(__name__)

PROMPT_PATH = Path(__file__).parent / "prompts" / "dealership.md"
GREETING = (
    "Welcome to CME Auto Sales! I can look up a vehicle by its VIN, search our inventory, "
    "or book you a test drive. How can I help you today?"
)


#: FILLER is said while a tool is still working after FILLER_AFTER_S of silence; a quick
#: tool's answer comes with nothing before it.
FILLER_AFTER_S = 0.3


def load_instructions(path: Path = PROMPT_PATH) -> str:
    return path.read_text(encoding="utf-8")


def _call_id(context: RunContext[Any]) -> str:
    return context.function_call.call_id or context.function_call.id


class DealershipAssistant(Agent):
    """`on_speech` sees every STT event, for what the session's events leave out
    (confidence, timings)."""

    def __init__(
        self,
        facts: Facts,
        services: DealershipServices | None = None,
        *,
        instructions: str | None = None,
        on_speech: Callable[[stt.SpeechEvent], None] | None = None,
    ) -> None:
        super().__init__(instructions=instructions or load_instructions())
        self._facts = facts
        self._services = services or DealershipServices()
        self._on_speech = on_speech
        self.typed_vins: set[str] = set()  # VINs the caller typed on the page, normalised
        self.desk: SupervisorDesk | None = None  # a supervisor's acts on this call

    async def on_user_turn_completed(
        self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
    ) -> None:
        """While a supervisor has the call the AI keeps listening (the caller's words stay
        in its context) but does not answer."""
        if self.desk is None:
            return
        if not self.desk.may_answer():
            raise StopResponse()
        self.desk.caller_said(new_message.text_content or "", turn_ctx)

    async def stt_node(
        self, audio: AsyncIterable[rtc.AudioFrame], model_settings: ModelSettings
    ) -> AsyncIterable[stt.SpeechEvent]:
        async for event in Agent.default.stt_node(self, audio, model_settings):
            if self._on_speech is not None:
                try:
                    self._on_speech(event)
                except Exception:  # bookkeeping must never break recognition
                    log.exception("speech listener failed")
            yield event

    async def _work(self, context: RunContext[Any], fn: Callable[..., Any], *args: Any) -> Any:
        """A service call, off the event loop (audio keeps flowing); the caller hears FILLER
        if it is not done after FILLER_AFTER_S."""
        async with context.with_filler(FILLER, delay=FILLER_AFTER_S):
            return await asyncio.to_thread(fn, *args)

    @function_tool
    async def lookup_vehicle(self, context: RunContext[Any], vin: str) -> str:
        """Look a vehicle up by its VIN: validate it, decode make and model year, and find
        it in our inventory.

        Args:
            vin: The 17-character VIN as the caller said it (spoken digits and letters are fine).
        """
        lookup = await self._work(context, self._services.lookup_vehicle, vin)
        self._facts.record(
            c.RecordVehicleLookup,
            f"{_call_id(context)}/lookup",
            vin_as_said=lookup.vin_as_said,
            vin=lookup.vin[:64],
            check_digit_valid=lookup.check_digit_valid,
            found=lookup.found,
            vehicle=lookup.vehicle,
            decoded=lookup.decoded,
            channel="typed" if lookup.vin in self.typed_vins else "voice",
        )
        return json.dumps(lookup.result)

    @function_tool
    async def search_inventory(
        self,
        context: RunContext[Any],
        make: str | None = None,
        model: str | None = None,
        year: int | None = None,
        min_price: int | None = None,
        max_price: int | None = None,
    ) -> str:
        """Search the vehicles we have for sale. Give only the filters the caller mentioned.

        Args:
            make: Manufacturer, e.g. Toyota.
            model: Model name, e.g. RAV4.
            year: Model year, e.g. 2021.
            min_price: Lowest price in US dollars.
            max_price: Highest price in US dollars.
        """
        result = await self._work(
            context, self._services.search_inventory, make, model, year, min_price, max_price
        )
        return json.dumps(result)

    @function_tool
    async def book_test_drive(
        self,
        context: RunContext[Any],
        customer_name: str,
        phone: str,
        preferred_time: str,
        vin: str | None = None,
    ) -> str:
        """Book a test drive once you have the caller's name, phone number and a time.

        Args:
            customer_name: The caller's name.
            phone: A phone number to reach them, digits as said.
            preferred_time: The day and time they want, e.g. "tomorrow at 10 am".
            vin: The VIN of the vehicle discussed, if any.
        """
        booking = await self._work(
            context, self._services.book_test_drive, customer_name, phone, preferred_time, vin
        )
        if booking.error is None:
            self._facts.record(
                c.BookTestDrive,
                f"{_call_id(context)}/test-drive",
                booking_id=booking.booking_id,
                customer_name=booking.customer_name,
                phone=booking.phone,
                preferred_time=booking.preferred_time,
                vin=booking.vin,
            )
        return json.dumps(booking.result)

    @function_tool
    async def request_callback(
        self,
        context: RunContext[Any],
        customer_name: str,
        phone: str,
        preferred_time: str = "",
        topic: str = "",
    ) -> str:
        """Ask a salesperson to call the caller back.

        Args:
            customer_name: The caller's name.
            phone: A phone number to call back, digits as said.
            preferred_time: When they would like the call, if they said.
            topic: What it is about, e.g. "financing".
        """
        booking = await self._work(
            context, self._services.request_callback, customer_name, phone, preferred_time, topic
        )
        if booking.error is None:
            self._record_callback(context, booking)
        return json.dumps(booking.result)

    def _record_callback(self, context: RunContext[Any], booking: Booking) -> None:
        self._facts.record(
            c.RequestCallback,
            f"{_call_id(context)}/callback",
            callback_id=booking.booking_id,
            customer_name=booking.customer_name,
            phone=booking.phone,
            preferred_time=booking.preferred_time,
            topic=booking.topic,
        )

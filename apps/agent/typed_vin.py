"""A VIN typed on the customer page: the fallback when reading it aloud does not work.

The page publishes it on the room's data channel, topic `vin`. It becomes a user turn
(`typed_vin_message`, so the transcript says it was typed), and the dialogue policy (or the
LLM, told so by the prompt) looks it up at once through the same `lookup_vehicle` tool,
whose `VehicleLookedUp` then says `channel="typed"`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession

from adapters.vin import normalise_vin
from adapters.voice.vin_capture import typed_vin_message

log = logging.getLogger(__name__)

VIN_TOPIC = "vin"
MAX_TYPED_BYTES = 200  # a VIN is 17 characters; anything much longer is not one
MAX_VIN_CHARS = 64  # what the domain keeps of a VIN


class TypedVins:
    """Turns `vin` data packets from the caller into user turns; remembers what was typed."""

    def __init__(self, session: AgentSession[Any]) -> None:
        self._session = session
        self.vins: set[str] = set()  # normalised, for the lookup tool to tell typed from said
        self._tasks: set[asyncio.Task[None]] = set()

    def data_received(self, packet: rtc.DataPacket) -> None:
        """The room's `data_received` handler: only the caller's `vin` packets count."""
        if packet.topic != VIN_TOPIC:
            return
        sender = packet.participant
        if sender is not None and sender.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            return
        if len(packet.data) > MAX_TYPED_BYTES:
            log.warning("ignoring a typed VIN of %d bytes", len(packet.data))
            return
        text = packet.data.decode("utf-8", errors="replace").strip()
        if text:
            task = asyncio.get_running_loop().create_task(self.typed(text))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def typed(self, text: str) -> None:
        """Interrupt whatever the agent is saying and answer the typed VIN."""
        vin = normalise_vin(text)[:MAX_VIN_CHARS]
        if not vin:
            return
        self.vins.add(vin)
        try:
            await self._session.interrupt()
        except RuntimeError:  # the current speech may not be interrupted: answer after it
            pass
        self._session.generate_reply(user_input=typed_vin_message(vin))

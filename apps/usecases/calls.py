"""Who gets into a call: a caller's token for a new call, their way back in with its
reconnect ticket, and a supervisor's hidden listen-in. Each decision is recorded first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from adapters.call_center import GroupCommitCallCenter
from adapters.livekit.tokens import LiveKitSettings, customer_token, monitor_token
from adapters.tickets import CallerTicket, ReconnectTickets
from domain import commands as c
from domain.errors import RoomUnavailable
from domain.meta import EventMeta


@dataclass(frozen=True)
class CallerGrant:
    token: str
    room_name: str
    participant_identity: str
    livekit_url: str
    reconnect_ticket: str


@dataclass(frozen=True)
class ListenInGrant:
    token: str
    room_name: str
    livekit_url: str
    participant_identity: str
    listen_id: str


class CallAccess:
    def __init__(
        self, app: GroupCommitCallCenter, livekit: LiveKitSettings, tickets: ReconnectTickets
    ):
        self.app, self.livekit, self.tickets = app, livekit, tickets

    async def request_call(
        self, room_name: str | None, caller_name: str, client_address: str
    ) -> CallerGrant:
        """A token for a new call: a new `call-<uuid>` room, or a named room with no call
        yet. For a room that has one, the refusal is recorded on it and RoomUnavailable
        raised."""
        room = room_name or f"call-{uuid.uuid4()}"
        identity = f"customer-{uuid.uuid4().hex[:12]}"
        meta = EventMeta(source="api", correlation_id=identity)
        try:
            await self.app.record_async(
                c.RequestCall(
                    room_name=room,
                    meta=meta,
                    participant_identity=identity,
                    participant_name=caller_name,
                )
            )
        except RoomUnavailable:
            await self.app.record_async(
                c.RefuseCallRequest(
                    room_name=room,
                    meta=meta,
                    participant_name=caller_name,
                    client_address=client_address,
                    reason="room_unavailable",
                )
            )
            raise
        return self._grant(CallerTicket(room, identity, caller_name))

    async def reconnect(self, ticket: str) -> CallerGrant:
        """Back into the caller's own call: raises InvalidTicket for a ticket this server
        did not issue (or that expired), CallAlreadyEnded once the call is over."""
        caller = self.tickets.verify(ticket)
        await self.app.record_async(
            c.ReconnectCaller(
                room_name=caller.room_name,
                meta=EventMeta(source="api", correlation_id=caller.identity),
                participant_identity=caller.identity,
            )
        )
        return self._grant(caller)

    def _grant(self, caller: CallerTicket) -> CallerGrant:
        return CallerGrant(
            token=customer_token(self.livekit, caller.room_name, caller.identity, caller.name),
            room_name=caller.room_name,
            participant_identity=caller.identity,
            livekit_url=self.livekit.url,
            reconnect_ticket=self.tickets.issue(caller),
        )

    async def start_listen_in(self, room_name: str, supervisor: str) -> ListenInGrant:
        """A hidden, subscribe-only token for one call; the listen-in is recorded first."""
        listen_id = uuid.uuid4().hex
        await self.app.record_async(
            c.StartListenIn(
                room_name=room_name,
                meta=EventMeta(source="supervisor", correlation_id=listen_id),
                listen_id=listen_id,
                supervisor=supervisor,
            )
        )
        identity = f"supervisor-{listen_id[:12]}"
        return ListenInGrant(
            token=monitor_token(self.livekit, room_name, identity, supervisor),
            room_name=room_name,
            livekit_url=self.livekit.url,
            participant_identity=identity,
            listen_id=listen_id,
        )

    async def end_listen_in(self, room_name: str, listen_id: str) -> None:
        await self.app.record_async(
            c.EndListenIn(
                room_name=room_name,
                meta=EventMeta(source="supervisor", correlation_id=listen_id),
                listen_id=listen_id,
            )
        )

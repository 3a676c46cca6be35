"""Reconnect tickets: a caller's proof that a call is theirs, given with its first token.

A ticket is signed (itsdangerous, HMAC-SHA256 over the payload and its time), names the room
and the caller's identity, and expires; each use returns a fresh one. Knowing a room's name
is never enough to join it: only a ticket is.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from domain.ids import ROOM_NAME_PATTERN


class InvalidTicket(Exception):
    """The ticket is forged, altered, malformed or expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CallerTicket:
    room_name: str
    identity: str
    name: str


class ReconnectTickets:
    def __init__(self, secret: str, *, ttl_s: int) -> None:
        self.ttl_s = ttl_s
        self._signer = URLSafeTimedSerializer(secret, salt="callcenter-reconnect")

    def issue(self, ticket: CallerTicket) -> str:
        return self._signer.dumps({"r": ticket.room_name, "i": ticket.identity, "n": ticket.name})

    def verify(self, raw: str) -> CallerTicket:
        try:
            data = self._signer.loads(raw, max_age=self.ttl_s)
        except SignatureExpired:
            raise InvalidTicket("the reconnect ticket has expired") from None
        except BadSignature:
            raise InvalidTicket("the reconnect ticket is not one this server issued") from None
        if not isinstance(data, dict):
            raise InvalidTicket("the reconnect ticket is malformed")
        room, identity, name = data.get("r"), data.get("i"), data.get("n")
        if not (isinstance(room, str) and ROOM_NAME_PATTERN.fullmatch(room)):
            raise InvalidTicket("the reconnect ticket is malformed")
        if not (isinstance(identity, str) and identity and isinstance(name, str)):
            raise InvalidTicket("the reconnect ticket is malformed")
        return CallerTicket(room, identity, name)

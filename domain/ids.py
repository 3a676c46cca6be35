"""Conversation ids are derived from LiveKit room names, so every process agrees on them."""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from domain.errors import InvalidCommand

# A fixed namespace: changing it would orphan every stored conversation.
CONVERSATION_NAMESPACE = UUID("6f1d3c1e-6c1b-4d0e-9a57-2b5f8c3d9e10")
ROOM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


def check_room_name(room_name: str) -> str:
    if not isinstance(room_name, str) or not ROOM_NAME_PATTERN.fullmatch(room_name):
        raise InvalidCommand(
            "room name must be 1-128 characters of letters, digits, '_', '-', '.', ':' "
            "and start with a letter or digit"
        )
    return room_name


def conversation_id_for_room(room_name: str) -> UUID:
    return uuid5(CONVERSATION_NAMESPACE, check_room_name(room_name))

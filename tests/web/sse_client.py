"""A small Server-Sent Events reader over httpx, for tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class SseMessage:
    id: str | None
    event: str
    data: Any


def read_events(response: httpx.Response) -> Iterator[SseMessage]:
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data or fields:
                yield SseMessage(
                    fields.get("id"),
                    fields.get("event", "message"),
                    json.loads("\n".join(data)) if data else None,
                )
            fields, data = {}, []
            continue
        if line.startswith(":"):
            continue  # heartbeat
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        else:
            fields[name] = value


def replayed(client: httpx.Client, path: str, quiet_s: float = 2.0) -> list[Any]:
    """Every message a stream replays from its start, until it is quiet for `quiet_s`."""
    got: list[Any] = []
    try:
        with client.stream(
            "GET",
            path,
            headers={"Last-Event-ID": "0"},
            timeout=httpx.Timeout(10, read=quiet_s),
        ) as response:
            assert response.status_code == 200, response.status_code
            for message in read_events(response):
                got.append(message.data)
    except httpx.ReadTimeout:
        pass  # quiet: the replay is over
    return got

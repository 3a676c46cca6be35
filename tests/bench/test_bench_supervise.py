"""The supervise bench reads the agent's reaction times from its log, once per act."""

from __future__ import annotations

from apps.bench.supervise import _REACTION


def test_each_act_is_read_once_from_the_text_record() -> None:
    message = (
        "supervisor-control coach sent_at=1764900000.100000 changed_at=1764900000.109000: "
        "the agent changed 9 ms after the server sent it"
    )
    log = (
        f"2026-12-05 01:15:00,000 INFO apps.agent.supervision: {message}\n"
        f'{{"message": "{message}", "level": "INFO", "name": "apps.agent.supervision"}}\n'
        "2026-12-05 01:15:01,000 INFO apps.agent.supervision: supervisor-control takeover "
        "sent_at=1764900001.0 changed_at=1764900001.2: the agent changed 200 ms\n"
    ).encode()
    assert _REACTION.findall(log) == [(b"1764900000.100000", b"1764900000.109000")]

"""The fast mapper stores what the library's mapper stores: every event decodes to the
same values through either, whichever encoder (orjson or the library's) it took."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import Mapper
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.codec import FastMapper, plain_float_fields
from domain import events as ev

# Transcoding alone: sealing personal data is tested in tests/test_sealing.py.
APP = GroupCommitCallCenter(
    env={"PERSISTENCE_MODULE": "eventsourcing.popo", "SEAL_PERSONAL_DATA": "n"}
)
FAST = APP.mapper
LIBRARY = Mapper(APP.mapper.transcoder)

texts = st.text(max_size=40)
floats = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70)
)
metas = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["agent", "webhook"]),
        "correlation_id": texts,
        "external_id": st.one_of(st.none(), texts),
        "occurred_at": texts,
    }
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _roundtrip_agrees(event: Any) -> None:
    fast, library = FAST.to_stored_event(event), LIBRARY.to_stored_event(event)
    assert fast.topic == library.topic
    a = vars(LIBRARY.to_domain_event(fast))
    b = vars(LIBRARY.to_domain_event(library))
    assert _same(a, b), (fast.state, library.state)
    assert _same(vars(FAST.to_domain_event(fast)), b)
    assert _same(vars(FAST.to_domain_event(library)), b)  # what the library stored, too


def test_the_fast_mapper_is_in_use() -> None:
    assert isinstance(FAST, FastMapper)
    assert plain_float_fields(ev.InterimTranscriptRecorded) == ("confidence",)
    assert plain_float_fields(ev.ToolCalled) is None  # nested values: the library encodes


@settings(max_examples=300, deadline=None)
@given(texts, texts, texts, floats, metas)
def test_interim_transcripts_decode_alike(
    speaker: str, text: str, segment: str, confidence: Any, meta: dict[str, Any]
) -> None:
    _roundtrip_agrees(
        ev.InterimTranscriptRecorded(
            originator_id=uuid4(),
            originator_version=3,
            timestamp=datetime.now(UTC),
            meta=meta,
            speaker=speaker,
            text=text,
            segment_id=segment,
            confidence=confidence,
        )
    )


@settings(max_examples=200, deadline=None)
@given(texts, floats, floats, floats, floats, metas)
def test_turn_latencies_decode_alike(
    speech: str, a: Any, b: Any, c: Any, d: Any, meta: dict[str, Any]
) -> None:
    _roundtrip_agrees(
        ev.TurnLatencyMeasured(
            originator_id=uuid4(),
            originator_version=9,
            timestamp=datetime.now(UTC),
            meta=meta,
            speech_id=speech,
            end_of_utterance_delay_s=a,
            llm_ttft_s=b,
            tts_ttfb_s=c,
            end_to_end_s=d,
        )
    )


def test_a_meta_with_nested_values_goes_through_the_library() -> None:
    event = ev.AgentReplied(
        originator_id=uuid4(),
        originator_version=2,
        timestamp=datetime.now(UTC),
        meta={"source": "agent", "at": datetime.now(UTC), "id": uuid4()},
        text="hello",
        interrupted=False,
    )
    _roundtrip_agrees(event)


def test_commands_trigger_the_events_the_library_would() -> None:
    """`ConversationState.trigger_event` builds what the library's builds, for every kind
    of command a simulated call sends (the library's constructor as the reference)."""
    from functools import partial

    from eventsourcing.domain import BaseAggregate

    from apps.bench.workload import CallMix
    from domain.conversation import Conversation

    calls = []

    def library(aggregate: Any, event_class: Any, **kwargs: Any) -> None:
        calls.append(event_class)
        BaseAggregate.trigger_event(aggregate, event_class, **kwargs)

    mix = CallMix(3, prefix="t", seed=7)
    ours: dict[str, Conversation] = {}
    theirs: dict[str, Conversation] = {}
    kinds = set()
    for _ in range(600):
        for k in range(3):
            command = mix.next_for(k)
            for table in (ours, theirs):
                if command.room_name not in table:
                    table[command.room_name] = Conversation.open(command.room_name, command.meta)
            ours_conv, theirs_conv = ours[command.room_name], theirs[command.room_name]
            try:
                theirs_conv.trigger_event = partial(library, theirs_conv)  # type: ignore[method-assign]
                outcome = []
                for conv in (ours_conv, theirs_conv):
                    try:
                        command.apply(conv)
                        outcome.append(None)
                    except Exception as e:  # a refused command is refused by both
                        outcome.append(type(e))
            finally:
                del theirs_conv.trigger_event
            assert outcome[0] == outcome[1]
            a, b = ours_conv.collect_events(), theirs_conv.collect_events()
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                kinds.add(type(x).__name__)
                assert type(x) is type(y)
                mine, reference = dict(vars(x)), dict(vars(y))
                mine.pop("timestamp"), reference.pop("timestamp")
                assert mine == reference
    assert len(kinds) >= 12, kinds
    assert len(calls) > 1000  # the reference really went through the library

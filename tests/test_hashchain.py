"""Linking a batch into the chains gives the hashes `chain_hash` defines, however the
batch's conversations interleave and whatever heads they start from."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.postgres.hashchain import GENESIS, chain_hash, link_events

IDS = [uuid4() for _ in range(3)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.binary(max_size=30)), max_size=30),
    st.lists(st.integers(0, 3), min_size=3, max_size=3),
    st.lists(st.binary(min_size=32, max_size=32), min_size=3, max_size=3),
)
def test_linked_batches_match_the_chain_definition(
    picks: list[tuple[int, bytes]], starts: list[int], head_hashes: list[bytes]
) -> None:
    # Each conversation continues from its head (version `start`, or a new chain at 0).
    heads = {IDS[k]: head_hashes[k] for k in range(3) if starts[k]}
    versions = dict(zip(IDS, starts, strict=True))
    events = []
    for k, state in picks:
        oid = IDS[k]
        versions[oid] += 1
        events.append(StoredEvent(oid, versions[oid], f"topic.{k}", state))

    linked = link_events(events, heads)
    columns = linked.columns

    expected: dict[UUID, bytes] = {}
    for e, prev, h in zip(events, columns[4], columns[5], strict=True):
        oid = e.originator_id
        assert isinstance(oid, UUID)
        before = expected.get(oid, heads.get(oid, GENESIS) if e.originator_version > 1 else GENESIS)
        assert prev == before
        assert h == chain_hash(before, oid, e.originator_version, e.topic, e.state)
        expected[oid] = h
    assert linked.heads == {oid: (versions[oid], h) for oid, h in expected.items()}

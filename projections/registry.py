"""Every read model the system keeps, by name."""

from __future__ import annotations

from projections.analytics import AnalyticsProjection
from projections.base import ReadModel
from projections.conversations import ConversationsProjection
from projections.insight import InsightProjection
from projections.listen_ins import ListenInsProjection
from projections.lookups import LookupsProjection
from projections.recordings import RecordingsProjection
from projections.search import SearchProjection
from projections.supervision import SupervisionProjection
from projections.transcript import TranscriptProjection

READ_MODELS: dict[str, ReadModel] = {
    m.name: m
    for m in (
        ConversationsProjection(),
        TranscriptProjection(),
        LookupsProjection(),
        RecordingsProjection(),
        ListenInsProjection(),
        SupervisionProjection(),
        SearchProjection(),
        AnalyticsProjection(),
        InsightProjection(),
    )
}


def read_model(name: str) -> ReadModel:
    try:
        return READ_MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown projection {name!r}; known: {', '.join(sorted(READ_MODELS))}"
        ) from None

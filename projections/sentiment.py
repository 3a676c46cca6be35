"""Customer sentiment of a line of speech, with VADER's bundled lexicon (the
`vadersentiment` package: rule-based, deterministic, no model to fetch), so a rebuild
scores every past call exactly as the live projection did."""

from __future__ import annotations

from functools import cache, lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

#: VADER's own thresholds on the compound score for a positive or negative text.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


@cache
def _analyser() -> SentimentIntensityAnalyzer:
    # Loading the lexicon takes ~50 ms: once per process.
    return SentimentIntensityAnalyzer()


# Two read models (analytics, insight) score each customer line one after the other, in
# the same pass over the log: the last couple of lines are kept, no more, so the second
# scoring is free while repeats across calls are still scored afresh.
@lru_cache(maxsize=2)
def sentiment_score(text: str) -> float:
    """VADER's compound score of `text`, from -1 (most negative) to 1 (most positive),
    rounded so that a score read back from a JSON column compares equal."""
    return round(float(_analyser().polarity_scores(text)["compound"]), 4)


def sentiment_label(score: float) -> str:
    """'positive', 'negative' or 'neutral', by VADER's thresholds."""
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"

"""Pure-Python ARPA n-gram builder for the dealership speech vocabulary.

Absolute discounting with Katz-style backoff: every seen n-gram gives up a fixed
``discount`` of its count, and that mass is spread over the lower order model
renormalised to the words not seen after the history. The output is byte-for-byte
deterministic (sorted n-grams, fixed float formatting), so the generated
``data/dealership.lm`` can be committed and checked by a test.

Regenerate with ``python3 -m uv run python -m tools.lm_builder``.
"""

from __future__ import annotations

import logging
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pocketsphinx

from adapters.voice.dealership_lm import CORPUS_PATH, DICT_PATH, LM_PATH

log = logging.getLogger(__name__)


BOS = "<s>"
EOS = "</s>"
_WORD_RE = re.compile(r"[a-z][a-z']*")
# ARPA's conventional "log10(0)" for <s>, which is never predicted.
_LOG_ZERO = -99.0


def bundled_dictionary_path() -> Path:
    """Path of pocketsphinx's bundled US English pronunciation dictionary."""
    return Path(pocketsphinx.get_model_path("en-us/cmudict-en-us.dict"))


def load_dictionary_words(dict_path: Path | None = None) -> frozenset[str]:
    """Headwords of a Sphinx dictionary, alternates like ``read(2)`` folded in."""
    words: set[str] = set()
    with open(dict_path or bundled_dictionary_path(), encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                words.add(line.split(maxsplit=1)[0].split("(", 1)[0])
    return frozenset(words)


def normalise_line(line: str) -> list[str]:
    """Lower-case a corpus line and split it into dictionary-style tokens."""
    return _WORD_RE.findall(line.lower())


@dataclass(frozen=True)
class CorpusReport:
    """What went into the model and what had to be left out."""

    sentences_used: int
    sentences_skipped: int
    vocabulary_size: int
    oov_words: tuple[str, ...]


def read_corpus(
    lines: Iterable[str], vocabulary: frozenset[str]
) -> tuple[list[list[str]], CorpusReport]:
    """Tokenise corpus lines, dropping (and reporting) lines with unknown words.

    A whole line is dropped rather than just the unknown word, because deleting a
    word mid-sentence would invent n-grams nobody says.
    """
    sentences: list[list[str]] = []
    oov: set[str] = set()
    skipped = 0
    for raw in lines:
        if raw.lstrip().startswith("#"):
            continue
        words = normalise_line(raw)
        if not words:
            continue
        missing = [w for w in words if w not in vocabulary]
        if missing:
            oov.update(missing)
            skipped += 1
            log.warning("corpus line skipped, not in dictionary: %s (%r)", missing, raw.strip())
            continue
        sentences.append(words)
    vocab = {w for s in sentences for w in s}
    report = CorpusReport(
        sentences_used=len(sentences),
        sentences_skipped=skipped,
        vocabulary_size=len(vocab),
        oov_words=tuple(sorted(oov)),
    )
    return sentences, report


def _fmt(value: float) -> str:
    # round first so "-0.0000" and "0.0000" never both appear for the same value
    rounded = round(value, 4)
    return f"{(rounded if rounded != 0 else 0.0):.4f}"


def build_arpa(
    sentences: Sequence[Sequence[str]],
    *,
    order: int = 3,
    discount: float = 0.5,
    uniform_weight: float = 0.05,
) -> str:
    """Build an ARPA backoff language model text from tokenised sentences.

    ``uniform_weight`` mixes a uniform distribution into the unigrams so rare corpus
    words (single letters, digits) stay reachable for the decoder.
    """
    if order not in (2, 3):
        raise ValueError("order must be 2 or 3")
    if not 0.0 < discount < 1.0:
        raise ValueError("discount must be in (0, 1)")
    if not sentences:
        raise ValueError("empty corpus")

    counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order + 1)]
    for sent in sentences:
        toks = (BOS, *sent, EOS)
        for n in range(1, order + 1):
            for i in range(len(toks) - n + 1):
                counts[n][toks[i : i + n]] += 1

    # unigram distribution: <s> is only ever a context, never predicted
    uni_counts = {w[0]: c for w, c in counts[1].items() if w[0] != BOS}
    total = sum(uni_counts.values())
    vocab_size = len(uni_counts)
    p1: dict[str, float] = {
        w: (1.0 - uniform_weight) * c / total + uniform_weight / vocab_size
        for w, c in uni_counts.items()
    }

    # probabilities of every explicit n-gram, keyed by the full tuple
    probs: list[dict[tuple[str, ...], float]] = [{} for _ in range(order + 1)]
    probs[1] = {(w,): p for w, p in p1.items()}
    backoffs: list[dict[tuple[str, ...], float]] = [{} for _ in range(order + 1)]

    def lower_prob(ngram: tuple[str, ...]) -> float:
        """Backed-off probability of ``ngram[-1]`` given ``ngram[:-1]``."""
        n = len(ngram)
        if n == 1:
            return p1.get(ngram[0], 0.0)
        if ngram in probs[n]:
            return probs[n][ngram]
        return backoffs[n - 1].get(ngram[:-1], 1.0) * lower_prob(ngram[1:])

    for n in range(2, order + 1):
        followers: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
        for ngram, c in counts[n].items():
            followers[ngram[:-1]].append((ngram[-1], c))
        for hist in sorted(followers):
            succ = followers[hist]
            hist_total = sum(c for _, c in succ)
            for w, c in succ:
                probs[n][(*hist, w)] = (c - discount) / hist_total
            left = discount * len(succ) / hist_total
            covered = sum(lower_prob((*hist[1:], w)) for w, _ in succ)
            # guard against a history whose successors already cover the whole
            # lower-order mass (only possible with a tiny vocabulary)
            backoffs[n - 1][hist] = left / max(1.0 - covered, 1e-6)

    lines = ["\\data\\"]
    lines += [f"ngram {n}={len(counts[n])}" for n in range(1, order + 1)]
    for n in range(1, order + 1):
        lines += ["", f"\\{n}-grams:"]
        for ngram in sorted(counts[n]):
            logp = _LOG_ZERO if ngram == (BOS,) else math.log10(probs[n][ngram])
            entry = f"{_fmt(logp)} {' '.join(ngram)}"
            if n < order and ngram in backoffs[n]:
                entry += f" {_fmt(math.log10(backoffs[n][ngram]))}"
            lines.append(entry)
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)


def dictionary_subset(words: Iterable[str], dict_path: Path | None = None) -> str:
    """Dictionary lines (with alternates) for ``words``, in the source order.

    A small dictionary makes the decoder start much faster than the 135k-word one.
    """
    wanted = set(words)
    out: list[str] = []
    with open(dict_path or bundled_dictionary_path(), encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and line.split(maxsplit=1)[0].split("(", 1)[0] in wanted:
                out.append(line.rstrip("\n"))
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class BuiltModel:
    """In-memory results of a build, written to disk by :func:`write_model`."""

    arpa: str
    dictionary: str
    report: CorpusReport


def build_dealership_model(corpus_path: Path = CORPUS_PATH) -> BuiltModel:
    """Build the dealership LM and its dictionary subset from the corpus file."""
    vocabulary = load_dictionary_words()
    with open(corpus_path, encoding="utf-8") as fh:
        sentences, report = read_corpus(fh, vocabulary)
    words = sorted({w for s in sentences for w in s})
    return BuiltModel(
        arpa=build_arpa(sentences), dictionary=dictionary_subset(words), report=report
    )


def write_model(model: BuiltModel, lm_path: Path = LM_PATH, dict_path: Path = DICT_PATH) -> None:
    """Write the LM and dictionary; newline='\\n' keeps the bytes platform-independent."""
    lm_path.write_text(model.arpa, encoding="utf-8", newline="\n")
    dict_path.write_text(model.dictionary, encoding="utf-8", newline="\n")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: rebuild ``data/dealership.lm`` and ``data/dealership.dic``."""
    del argv  # no options yet; the paths are fixed so the output is reproducible
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    model = build_dealership_model()
    write_model(model)
    r = model.report
    print(
        f"wrote {LM_PATH.name} and {DICT_PATH.name}: {r.sentences_used} sentences, "
        f"{r.vocabulary_size} words, {r.sentences_skipped} skipped, oov={list(r.oov_words)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

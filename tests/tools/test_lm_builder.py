"""The dealership LM: reproducible, in-dictionary, a proper backoff model."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import pocketsphinx
import pytest

from adapters.voice.dealership_lm import CORPUS_PATH, DICT_PATH, LM_PATH
from tools import lm_builder
from tools.lm_builder import (
    build_arpa,
    build_dealership_model,
    load_dictionary_words,
    read_corpus,
)


def test_regenerating_gives_the_committed_files() -> None:
    model = build_dealership_model()
    assert model.arpa == LM_PATH.read_text(encoding="utf-8"), (
        "data/dealership.lm is stale: run `python3 -m uv run python -m tools.lm_builder`"
    )
    assert model.dictionary == DICT_PATH.read_text(encoding="utf-8")


def test_every_corpus_word_is_in_the_bundled_dictionary() -> None:
    model = build_dealership_model()
    assert model.report.oov_words == ()
    assert model.report.sentences_skipped == 0
    assert model.report.sentences_used > 400


def test_out_of_vocabulary_lines_are_skipped_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vocab = frozenset({"i", "want", "a", "car"})
    sentences, report = read_corpus(["# comment", "i want a car", "i want a zorblax", ""], vocab)
    assert sentences == [["i", "want", "a", "car"]]
    assert report.oov_words == ("zorblax",)
    assert report.sentences_skipped == 1
    assert "zorblax" in caplog.text


def _parse_arpa(text: str) -> tuple[dict[tuple[str, ...], float], dict[tuple[str, ...], float]]:
    probs: dict[tuple[str, ...], float] = {}
    backoffs: dict[tuple[str, ...], float] = {}
    order = 0
    for line in text.splitlines():
        if line.startswith("\\") and line.endswith("-grams:"):
            order = int(line[1])
            continue
        fields = line.split()
        if order and len(fields) >= order + 1 and not line.startswith("\\"):
            ngram = tuple(fields[1 : order + 1])
            probs[ngram] = float(fields[0])
            if len(fields) == order + 2:
                backoffs[ngram] = float(fields[-1])
    return probs, backoffs


def test_backoff_distributions_sum_to_one() -> None:
    sentences = [
        ["i", "want", "a", "car"],
        ["i", "want", "a", "truck"],
        ["do", "you", "have", "a", "car"],
        ["a", "car"],
    ]
    probs, backoffs = _parse_arpa(build_arpa(sentences))
    vocab = sorted(w for (w,) in (k for k in probs if len(k) == 1) if w != "<s>")

    def p(ngram: tuple[str, ...]) -> float:
        if ngram in probs:
            return 10 ** probs[ngram]
        return 10 ** backoffs.get(ngram[:-1], 0.0) * p(ngram[1:])

    histories: dict[int, set[tuple[str, ...]]] = defaultdict(set)
    for ngram in probs:
        if 1 < len(ngram):
            histories[len(ngram)].add(ngram[:-1])
    assert histories[2] and histories[3]
    for hist in [(), *histories[2], *histories[3]]:
        total = sum(p((*hist, w)) for w in vocab)
        assert math.isclose(total, 1.0, abs_tol=2e-3), (hist, total)


def test_pocketsphinx_loads_the_generated_model() -> None:
    decoder = pocketsphinx.Decoder(
        samprate=16000, lm=str(LM_PATH), dict=str(DICT_PATH), loglevel="FATAL"
    )
    assert decoder.lookup_word("toyota")
    assert decoder.lookup_word("civic")
    words = load_dictionary_words(DICT_PATH)
    assert {"vin", "test", "drive", "financing", "callback"} <= words


def test_cli_rebuilds_into_given_paths(tmp_path: Path) -> None:
    model = build_dealership_model(CORPUS_PATH)
    lm_out, dict_out = tmp_path / "x.lm", tmp_path / "x.dic"
    lm_builder.write_model(model, lm_out, dict_out)
    assert lm_out.read_bytes() == LM_PATH.read_bytes()
    assert dict_out.read_bytes() == DICT_PATH.read_bytes()

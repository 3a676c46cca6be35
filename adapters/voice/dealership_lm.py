"""Where the dealership language model for pocketsphinx lives: an ARPA model and its
pronunciation dictionary, built from the corpus beside them by `tools/lm_builder.py`
and committed."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS_PATH = DATA_DIR / "dealership_corpus.txt"
LM_PATH = DATA_DIR / "dealership.lm"
DICT_PATH = DATA_DIR / "dealership.dic"

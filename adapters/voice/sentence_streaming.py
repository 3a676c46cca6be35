"""Sentence-by-sentence speech for the local TTS engines, which need whole text.

espeak-ng and Piper each synthesise one text at a time; wrapping them in
``tts.StreamAdapter`` lets the first sentence of an LLM reply be spoken while the rest
is still being written.
"""

from __future__ import annotations

from typing import Any

from livekit.agents import tokenize, tts


def sentence_streaming_tts(inner: tts.TTS[Any], *, min_sentence_len: int = 20) -> tts.StreamAdapter:
    """Wrap a non-streaming TTS so each sentence is spoken as soon as it is complete.

    ``retain_format=True`` matters: with it, blingfire releases a sentence as soon as
    the whitespace after its final punctuation arrives, instead of waiting for the
    next sentence to start. AgentSession builds the same adapter on its own for a
    non-streaming TTS; use this one to control the tokenizer or outside a session.
    """
    return tts.StreamAdapter(
        tts=inner,
        sentence_tokenizer=tokenize.blingfire.SentenceTokenizer(
            retain_format=True, min_sentence_len=min_sentence_len
        ),
    )

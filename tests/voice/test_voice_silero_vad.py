"""The silero VAD loads from the plugin wheel and hears espeak-ng speech."""

from __future__ import annotations

from pathlib import Path

from livekit.agents import vad
from livekit.plugins import silero
from voice_helpers import spoken, to_room_frames


def test_model_file_ships_inside_the_plugin() -> None:
    resources = Path(silero.__file__).parent / "resources" / "silero_vad.onnx"
    assert resources.is_file() and resources.stat().st_size > 100_000


async def test_vad_detects_speech_in_espeak_audio() -> None:
    model = silero.VAD.load()  # offline: the ONNX file comes from the wheel
    sentence = spoken("I would like to book a test drive")
    stream = model.stream()
    for frame in to_room_frames(sentence, channels=1, lead_silence=1.0, tail_silence=1.5):
        stream.push_frame(frame)
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()

    kinds = [ev.type for ev in events]
    assert kinds.count(vad.VADEventType.START_OF_SPEECH) == 1
    assert kinds.count(vad.VADEventType.END_OF_SPEECH) == 1
    start = next(ev for ev in events if ev.type == vad.VADEventType.START_OF_SPEECH)
    end = next(ev for ev in events if ev.type == vad.VADEventType.END_OF_SPEECH)
    # speech begins after the 1 s of leading silence, lasts about as long as the sentence
    assert 0.8 < start.timestamp < 1.6
    assert abs(end.speech_duration - sentence.duration) < 0.8
    assert max(ev.probability for ev in events) > 0.9

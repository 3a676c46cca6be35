"""Local text-to-speech with the ``espeak-ng`` command, as a livekit-agents ``tts.TTS``.

espeak-ng is not a streaming TTS in the livekit sense (it needs whole text), so
:class:`EspeakTTS` is a non-streaming TTS whose ChunkedStream forwards audio as soon
as the subprocess writes it; :func:`sentence_streaming_tts` wraps it (the shared wrapper in
:mod:`.sentence_streaming`) so speech starts after the first sentence of an LLM reply.
"""

from __future__ import annotations

import asyncio
import shutil
import struct
from dataclasses import dataclass
from typing import Any, Literal

from livekit.agents import tts
from livekit.agents._exceptions import APIError, APITimeoutError
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.agents.utils import shortuuid

from .sentence_streaming import sentence_streaming_tts as sentence_streaming

SAMPLE_RATE = 22050  # every en voice shipped with Debian's espeak-ng
NUM_CHANNELS = 1
_READ_SIZE = 4096


class EspeakNotInstalledError(RuntimeError):
    """espeak-ng is missing; install it with ``apt-get install espeak-ng``."""


def find_espeak(executable: str = "espeak-ng") -> str:
    """Absolute path of espeak-ng, or a clear error saying how to install it."""
    path = shutil.which(executable)
    if path is None:
        raise EspeakNotInstalledError(
            f"{executable!r} not found on PATH: install it with `apt-get install espeak-ng`"
        )
    return path


@dataclass(frozen=True)
class WavFormat:
    sample_rate: int
    num_channels: int
    bits_per_sample: int


class WavHeaderParser:
    """Incremental RIFF/WAVE header reader for piped output.

    espeak-ng writes placeholder sizes (0x7fffffff) when writing to a pipe, so
    the data chunk size is ignored and everything after its header is PCM.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.format: WavFormat | None = None
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """Consume bytes; once the header is complete return the PCM that follows."""
        if self.done:
            return data
        self._buf += data
        if len(self._buf) < 12:
            return b""
        if self._buf[:4] != b"RIFF" or self._buf[8:12] != b"WAVE":
            raise ValueError("espeak-ng output is not a RIFF/WAVE stream")
        pos = 12
        while len(self._buf) >= pos + 8:
            chunk_id = bytes(self._buf[pos : pos + 4])
            (size,) = struct.unpack("<I", self._buf[pos + 4 : pos + 8])
            if chunk_id == b"data":
                if self.format is None:
                    raise ValueError("WAV data chunk before fmt chunk")
                self.done = True
                pcm = bytes(self._buf[pos + 8 :])
                self._buf.clear()
                return pcm
            if len(self._buf) < pos + 8 + size:
                return b""  # wait for the rest of this chunk
            if chunk_id == b"fmt ":
                fmt, channels, rate, _, _, bits = struct.unpack(
                    "<HHIIHH", self._buf[pos + 8 : pos + 24]
                )
                if fmt != 1:
                    raise ValueError(f"unsupported WAV encoding {fmt}, expected PCM")
                self.format = WavFormat(rate, channels, bits)
            pos += 8 + size + (size & 1)  # chunks are word aligned
        return b""


_EXPECTED_FORMAT = WavFormat(SAMPLE_RATE, NUM_CHANNELS, 16)


class EspeakTTS(tts.TTS[Literal["metrics_collected", "error"]]):
    """espeak-ng speech: 22050 Hz mono 16-bit PCM, non-streaming."""

    def __init__(
        self,
        *,
        voice: str = "en-us",
        words_per_minute: int = 165,
        pitch: int = 50,
        executable: str = "espeak-ng",
    ) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=SAMPLE_RATE,
            num_channels=NUM_CHANNELS,
        )
        self._executable = find_espeak(executable)  # fail at startup, not mid-call
        self._voice = voice
        self._wpm = words_per_minute
        self._pitch = pitch

    @property
    def model(self) -> str:
        return self._voice

    @property
    def provider(self) -> str:
        return "espeak-ng"

    def command(self) -> list[str]:
        """The espeak-ng command line; text goes to stdin so it is never an option."""
        return [
            self._executable,
            "-v",
            self._voice,
            "-s",
            str(self._wpm),
            "-p",
            str(self._pitch),
            "-b",
            "1",  # UTF-8 input
            "--stdin",
            "--stdout",
        ]

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> EspeakChunkedStream:
        return EspeakChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class EspeakChunkedStream(tts.ChunkedStream):
    """One espeak-ng process per text, its stdout forwarded as it is produced."""

    def __init__(self, *, tts: EspeakTTS, input_text: str, conn_options: APIConnectOptions):
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._espeak = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=shortuuid("espeak_"),
            sample_rate=SAMPLE_RATE,
            num_channels=NUM_CHANNELS,
            mime_type="audio/pcm",
        )
        if not self._input_text.strip():
            return
        proc = await asyncio.create_subprocess_exec(
            *self._espeak.command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(self._conn_options.timeout):
                await self._pump(proc, output_emitter)
        except TimeoutError as e:
            raise APITimeoutError("espeak-ng timed out") from e
        finally:
            if proc.returncode is None:  # cancelled (barge-in) or failed: don't leak it
                proc.kill()
                await proc.wait()

    async def _pump(self, proc: asyncio.subprocess.Process, emitter: tts.AudioEmitter) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(self._input_text.encode("utf-8"))
        await proc.stdin.drain()
        proc.stdin.close()
        stderr_task = asyncio.create_task(proc.stderr.read())  # drain it so espeak never blocks
        try:
            header = WavHeaderParser()
            while chunk := await proc.stdout.read(_READ_SIZE):
                pcm = header.feed(chunk)
                if header.done and header.format != _EXPECTED_FORMAT:
                    raise APIError(
                        f"espeak-ng produced {header.format}, expected {_EXPECTED_FORMAT}"
                    )
                if pcm:
                    emitter.push(pcm)  # forwarded as soon as espeak writes it
            code = await proc.wait()
            stderr = (await stderr_task).decode(errors="replace").strip()
        finally:
            stderr_task.cancel()
        if code != 0:
            raise APIError(f"espeak-ng exited with {code}: {stderr}", retryable=False)
        emitter.flush()


def sentence_streaming_tts(
    inner: tts.TTS[Any] | None = None, *, min_sentence_len: int = 20
) -> tts.StreamAdapter:
    """espeak-ng (or ``inner``) spoken sentence by sentence; see :mod:`.sentence_streaming`."""
    return sentence_streaming(inner or EspeakTTS(), min_sentence_len=min_sentence_len)

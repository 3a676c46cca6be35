"""Fixtures for the agent tests: local providers with the real silero VAD, a config."""

from __future__ import annotations

from pathlib import Path

import pytest
from livekit.agents import vad
from livekit.plugins import silero

from adapters.voice.providers import Providers, select_providers
from apps.agent.config import AgentConfig


@pytest.fixture(scope="session")
def silero_vad() -> vad.VAD:
    return silero.VAD.load()  # from the plugin wheel: no download


@pytest.fixture
def providers(silero_vad: vad.VAD) -> Providers:
    """pocketsphinx STT, the dealership dialogue policy, espeak-ng TTS, silero VAD."""
    # pinned: these tests assert what pocketsphinx hears in espeak-ng speech
    local = {"CALLCENTER_STT": "pocketsphinx", "CALLCENTER_TTS": "espeak"}
    chosen = select_providers(local, vad_model=silero_vad)
    assert chosen.names["llm"] == "dealership-policy"
    return chosen


@pytest.fixture
def agent_config(tmp_path: Path) -> AgentConfig:
    return AgentConfig(
        database_url=None,
        data_dir=tmp_path,
        recording_mode="off",
        s3=None,
        livekit_url="",
        livekit_api_key="",
        livekit_api_secret="",
    )

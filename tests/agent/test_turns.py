"""Turn-taking settings: the chosen defaults, each override, and a bad value that names
its setting before a call starts."""

from __future__ import annotations

import pytest
from livekit.agents import AgentSession

from apps.agent.turns import DEFAULTS, TurnSettingsError, describe, turn_handling


async def test_the_defaults_keep_interruptions_on() -> None:
    options = turn_handling({})
    assert options["endpointing"]["min_delay"] == float(DEFAULTS["CALLCENTER_MIN_ENDPOINTING_S"])
    assert options["endpointing"]["max_delay"] == float(DEFAULTS["CALLCENTER_MAX_ENDPOINTING_S"])
    assert options["interruption"]["enabled"] is True
    assert options["preemptive_generation"]["enabled"] is (DEFAULTS["CALLCENTER_PREEMPTIVE"] == "1")
    AgentSession(turn_handling=options)  # type: ignore[arg-type]  # livekit accepts them


def test_each_setting_overrides_its_default() -> None:
    env = {
        "CALLCENTER_MIN_ENDPOINTING_S": "0.2",
        "CALLCENTER_MAX_ENDPOINTING_S": "1.5",
        "CALLCENTER_PREEMPTIVE": "0",
        "CALLCENTER_TURN_DETECTION": "vad",
    }
    options = turn_handling(env)
    assert options["endpointing"] == {"mode": "fixed", "min_delay": 0.2, "max_delay": 1.5}
    assert options["preemptive_generation"] == {"enabled": False}
    assert options["turn_detection"] == "vad"  # not livekit's implicit end-of-turn model
    assert describe(env) == "turns=vad endpointing=0.2-1.5s preemptive=off"


def test_the_on_device_end_of_turn_model_runs_locally() -> None:
    detector = turn_handling({"CALLCENTER_TURN_DETECTION": "eot-mini"})["turn_detection"]
    assert detector.model == "turn-detector-v1-mini"  # the local model, no gateway


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CALLCENTER_TURN_DETECTION": "smart"}, "CALLCENTER_TURN_DETECTION"),
        ({"CALLCENTER_MIN_ENDPOINTING_S": "soon"}, "CALLCENTER_MIN_ENDPOINTING_S"),
        ({"CALLCENTER_MAX_ENDPOINTING_S": "-1"}, "CALLCENTER_MAX_ENDPOINTING_S"),
        (
            {"CALLCENTER_MIN_ENDPOINTING_S": "2", "CALLCENTER_MAX_ENDPOINTING_S": "1"},
            "CALLCENTER_MAX_ENDPOINTING_S",
        ),
    ],
)
def test_a_bad_setting_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(TurnSettingsError, match=named):
        turn_handling(env)

"""The agent's LLM over the OpenAI chat API: OpenAI itself, or a server the dealership runs
(Ollama, vLLM, llama.cpp's server) at ``OPENAI_BASE_URL``.

livekit-plugins-openai speaks to any of them. What a self-hosted server needs on top is
here: it wants no key, its first token can take far longer than the cloud's (a model
loading, a prompt evaluated on a CPU), and it must be up and serve the model before the
agent takes calls, or every caller meets silence.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from livekit.agents import llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.plugins import openai as lk_openai

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# the openai client refuses to start without a key; a local server ignores whatever is sent
NO_KEY = "no-key"
# a CPU-bound server may load the model and evaluate the whole prompt before its first byte
SELF_HOSTED_TIMEOUT_S = 60.0
CHECK_TIMEOUT_S = 5.0


class LLMServerError(ValueError):
    """The configured OpenAI-compatible server cannot answer the agent."""


def _get(env: Mapping[str, str], key: str) -> str:
    return (env.get(key) or "").strip()


def openai_configured(env: Mapping[str, str]) -> bool:
    """A key or a server address picks the OpenAI-API LLM over the dialogue policy."""
    return bool(_get(env, "OPENAI_API_KEY") or _get(env, "OPENAI_BASE_URL"))


@dataclass(frozen=True)
class OpenAISettings:
    api_key: str
    model: str
    base_url: str | None
    timeout_s: float | None
    """the longest wait for the server's next bytes; None keeps the library's (10 s)"""

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], forced_by: str = "CALLCENTER_LLM=openai"
    ) -> OpenAISettings:
        base_url = _get(env, "OPENAI_BASE_URL").rstrip("/") or None
        key = _get(env, "OPENAI_API_KEY")
        if not key and base_url is None:
            raise ValueError(
                f"{forced_by} selects a cloud provider but OPENAI_API_KEY is not set "
                "(or set OPENAI_BASE_URL to use a self-hosted server)"
            )
        raw_timeout = _get(env, "CALLCENTER_LLM_TIMEOUT_S")
        timeout_s: float | None = SELF_HOSTED_TIMEOUT_S if base_url else None
        if raw_timeout:
            try:
                timeout_s = float(raw_timeout)
            except ValueError:
                timeout_s = -1.0
            if not timeout_s > 0:
                raise ValueError(f"CALLCENTER_LLM_TIMEOUT_S={raw_timeout!r} is not a number > 0")
        return cls(
            api_key=key or NO_KEY,
            model=_get(env, "OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
            base_url=base_url,
            timeout_s=timeout_s,
        )

    def describe(self) -> str:
        where = f"server={self.base_url}" if self.base_url else "cloud"
        return f"{where}, model={self.model}"


class OpenAICompatibleLLM(lk_openai.LLM):
    """The plugin's LLM, waiting at least ``request_timeout_s`` for each streamed response.

    AgentSession hands every request its own connect options (a 10 s timeout by default);
    a slower server gets the longer of the two."""

    def __init__(self, *, request_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request_timeout_s = request_timeout_s

    def chat(  # type: ignore[override]
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS, **kwargs: Any
    ) -> llm.LLMStream:
        if conn_options.timeout < self.request_timeout_s:
            conn_options = replace(conn_options, timeout=self.request_timeout_s)
        return super().chat(conn_options=conn_options, **kwargs)


def build_openai_llm(
    *, api_key: str, model: str, base_url: str | None, timeout_s: float | None = None
) -> llm.LLM[Any]:
    if timeout_s is None and base_url is None:
        return lk_openai.LLM(api_key=api_key, model=model)
    kwargs: dict[str, Any] = {"api_key": api_key, "model": model}
    if base_url:
        kwargs["base_url"] = base_url
    return OpenAICompatibleLLM(request_timeout_s=timeout_s or SELF_HOSTED_TIMEOUT_S, **kwargs)


def served_models(
    base_url: str, api_key: str = NO_KEY, timeout_s: float = CHECK_TIMEOUT_S
) -> list[dict[str, Any]]:
    """`GET {base_url}/models`, which Ollama, vLLM and llama.cpp's server all answer."""
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/models", headers={"Authorization": f"Bearer {api_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        hint = {401: " (check OPENAI_API_KEY)", 403: " (check OPENAI_API_KEY)",
                404: " (the address usually ends in /v1)"}.get(e.code, "")  # fmt: skip
        raise LLMServerError(
            f"OPENAI_BASE_URL={base_url}: GET /models answered {e.code} {e.reason}{hint}"
        ) from None
    except (OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise LLMServerError(
            f"OPENAI_BASE_URL={base_url} is unreachable ({reason}): start the server "
            "(e.g. `ollama serve`) or correct the address"
        ) from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise LLMServerError(
            f"OPENAI_BASE_URL={base_url} does not answer like the OpenAI API: "
            "GET /models gave no model list (the address usually ends in /v1)"
        )
    return [m for m in data if isinstance(m, dict)]


def check_server(settings: OpenAISettings, timeout_s: float = CHECK_TIMEOUT_S) -> None:
    """Fail at start, naming the setting, if the self-hosted server is down or does not
    serve OPENAI_MODEL. llama.cpp's server answers with its one loaded model whatever the
    request names, so any name does there."""
    if settings.base_url is None:
        return
    models = served_models(settings.base_url, settings.api_key, timeout_s)
    ids = [str(m.get("id")) for m in models]
    if any(m.get("owned_by") == "llamacpp" for m in models):
        return
    if settings.model in ids or f"{settings.model}:latest" in ids:  # Ollama's default tag
        return
    served = ", ".join(ids) or "none"
    raise LLMServerError(
        f"OPENAI_MODEL={settings.model} is not served by OPENAI_BASE_URL={settings.base_url} "
        f"(it serves: {served}); set OPENAI_MODEL to one of them, or load it "
        f"(for Ollama: `ollama pull {settings.model}`)"
    )

"""The dealership dialogue policy's output as a livekit-agents LLM stream: one decision
(a reply, or a tool call with a short preamble) as chat chunks, with stable ids (the same
conversation gives the same chunks) and word counts standing in for token usage."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from livekit.agents import llm
from livekit.agents.llm import utils as llm_utils
from livekit.agents.types import APIConnectOptions, NotGivenOr
from livekit.agents.utils import is_given

if TYPE_CHECKING:
    from .dialogue_policy import DealershipDialoguePolicy


@dataclass(frozen=True)
class ToolCallDecision:
    """Call ``name`` with ``arguments``; ``preamble`` is spoken while it runs."""

    name: str
    arguments: dict[str, Any]
    preamble: str = ""


@dataclass(frozen=True)
class ReplyDecision:
    text: str


Decision = ToolCallDecision | ReplyDecision


def allowed_tool_names(
    tools: Sequence[llm.Tool], tool_choice: NotGivenOr[llm.ToolChoice]
) -> frozenset[str]:
    """Tool names the policy may call under ``tool_choice``."""
    names = frozenset(t.id for t in tools)
    if not is_given(tool_choice) or tool_choice in ("auto", "required"):
        return names
    if tool_choice == "none":
        return frozenset()
    if isinstance(tool_choice, Mapping):
        return names & {tool_choice["function"]["name"]}
    return names


def _tool_parameters(tool: llm.Tool) -> frozenset[str] | None:
    """Declared argument names of a function tool, None if unknown."""
    try:
        if llm.is_raw_function_tool(tool):
            props = tool.info.raw_schema.get("parameters", {}).get("properties", {})
            return frozenset(props)
        if llm.is_function_tool(tool):
            model = llm_utils.function_arguments_to_pydantic_model(tool)
            return frozenset(model.model_fields)
    except Exception:  # introspection is a nicety: never fail a turn over it
        return None
    return None


def _context_digest(chat_ctx: llm.ChatContext) -> str:
    """Stable id material: same conversation -> same chunk and call ids."""
    parts: list[Any] = []
    for item in chat_ctx.items:
        if isinstance(item, llm.ChatMessage):
            parts.append([item.role, item.text_content or ""])
        elif isinstance(item, llm.FunctionCall):
            parts.append(["call", item.name, item.arguments])
        elif isinstance(item, llm.FunctionCallOutput):
            parts.append(["output", item.name, item.output, item.is_error])
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class PolicyStream(llm.LLMStream):
    """Streams one policy decision as ChatChunks: text groups, a tool call, usage."""

    def __init__(
        self,
        policy: DealershipDialoguePolicy,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
        tool_choice: NotGivenOr[llm.ToolChoice],
    ) -> None:
        super().__init__(policy, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._policy = policy
        self._tool_choice = tool_choice

    async def _run(self) -> None:
        names = allowed_tool_names(self._tools, self._tool_choice)
        decision = self._policy.decide(self._chat_ctx, names)
        digest = _context_digest(self._chat_ctx)
        chunk_id = f"policy-{digest[:16]}"
        text = decision.text if isinstance(decision, ReplyDecision) else ""
        if isinstance(decision, ToolCallDecision) and self._policy._announce:
            text = decision.preamble
        role: Literal["assistant"] | None = "assistant"
        for piece in self._policy.chunk_text(text):
            self._send(llm.ChatChunk(id=chunk_id, delta=llm.ChoiceDelta(role=role, content=piece)))
            role = None
            await asyncio.sleep(0)  # let the TTS start on the first words
        arguments = ""
        if isinstance(decision, ToolCallDecision):
            args = dict(decision.arguments)
            tool = next((t for t in self._tools if t.id == decision.name), None)
            params = _tool_parameters(tool) if tool is not None else None
            if params is not None:
                args = {k: v for k, v in args.items() if k in params}
            arguments = json.dumps(args, sort_keys=True)
            call = llm.FunctionToolCall(
                name=decision.name, arguments=arguments, call_id=f"call_{digest[:24]}"
            )
            self._send(
                llm.ChatChunk(id=chunk_id, delta=llm.ChoiceDelta(role=role, tool_calls=[call]))
            )
        # no tokenizer here: words stand in for tokens so metrics stay meaningful
        prompt = _context_words(self._chat_ctx)
        completion = len(text.split()) + len(arguments.split())
        self._send(
            llm.ChatChunk(
                id=chunk_id,
                usage=llm.CompletionUsage(
                    completion_tokens=completion,
                    prompt_tokens=prompt,
                    total_tokens=prompt + completion,
                ),
            )
        )

    def _send(self, chunk: llm.ChatChunk) -> None:
        self._event_ch.send_nowait(chunk)


def _context_words(chat_ctx: llm.ChatContext) -> int:
    count = 0
    for item in chat_ctx.items:
        if isinstance(item, llm.ChatMessage):
            count += len((item.text_content or "").split())
        elif isinstance(item, llm.FunctionCall):
            count += len(item.arguments.split())
        elif isinstance(item, llm.FunctionCallOutput):
            count += len(item.output.split())
    return count

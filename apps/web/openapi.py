"""The OpenAPI description of every route (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from projections.history_queries import HISTORY_FILTERS

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(
    ok: str, *codes: int, ok_schema: dict[str, Any] | None = None, ok_status: int = 200
) -> dict[str, Any]:
    out: dict[str, Any] = {
        str(ok_status): {"description": ok, **_json(ok_schema or {"type": "object"})}
    }
    reasons = {
        400: "malformed request",
        401: "not authorised",
        403: "the signed-in role may not do this",
        404: "unknown id",
        409: "refused by the call's state",
        502: "recorded, but LiveKit could not be reached to carry it out",
        413: "body too large",
        415: "not JSON",
        422: "invalid input",
        429: "rate limited",
        503: "dependency unavailable",
    }
    for code in codes:
        out[str(code)] = {"description": reasons[code], **_json(ERROR)}
    return out


def _body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": True,
    }
    if required:
        schema["required"] = required
    return {"required": True, **_json(schema)}


CONVERSATION_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
ADMIN: list[dict[str, list[str]]] = [{"cookie": []}, {"bearer": []}]
AUDIO = {"content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}}}
BODY_ERRORS = (400, 413, 415, 422)

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "CME Auto Sales call center", "version": "0.1.0"},
    "components": {
        "securitySchemes": {
            "cookie": {"type": "apiKey", "in": "cookie", "name": "cc_admin"},
            "bearer": {"type": "http", "scheme": "bearer"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "reason"],
                "properties": {"error": {"type": "string"}, "reason": {"type": "string"}},
            }
        },
    },
    "paths": {
        "/healthz": {"get": {"summary": "health", "responses": _responses("healthy", 503)}},
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {
                        "description": "metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/api/get-token": {
            "post": {
                "summary": "a customer token for a new call (409 room_unavailable for a room "
                "that already has one)",
                "requestBody": _body(
                    {
                        "room_name": {"type": "string", "maxLength": 128},
                        "participant_name": {"type": "string", "maxLength": 64},
                    }
                ),
                "responses": _responses("token", *BODY_ERRORS, 409, 429),
            }
        },
        "/api/reconnect-token": {
            "post": {
                "summary": "a fresh token back into the caller's own call, for its ticket",
                "requestBody": _body(
                    {"reconnect_ticket": {"type": "string", "maxLength": 1024}},
                    ["reconnect_ticket"],
                ),
                "responses": _responses("token", *BODY_ERRORS, 401, 409, 429),
            }
        },
        "/api/lookup-vehicle": {
            "post": {
                "summary": "decode a VIN and match the inventory",
                "requestBody": _body({"vin": {"type": "string", "maxLength": 200}}, ["vin"]),
                "responses": _responses("vehicle", *BODY_ERRORS),
            }
        },
        "/api/admin/login": {
            "post": {
                "summary": "admin login",
                "requestBody": _body(
                    {"username": {"type": "string"}, "password": {"type": "string"}},
                    ["username", "password"],
                ),
                "responses": _responses("logged in", *BODY_ERRORS, 401, 429),
            }
        },
        "/api/admin/logout": {
            "post": {"summary": "log out", "responses": _responses("logged out")}
        },
        "/api/admin/session": {
            "get": {
                "summary": "who is logged in",
                "security": ADMIN,
                "responses": _responses("session", 401),
            }
        },
        "/api/admin/me": {
            "get": {
                "summary": "who is signed in, their role and its rights",
                "security": ADMIN,
                "responses": _responses("name, role, can", 401),
            }
        },
        "/api/admin/users": {
            "get": {
                "summary": "every staff account (admins)",
                "security": ADMIN,
                "responses": _responses("accounts", 401, 403),
            },
            "post": {
                "summary": "add a staff account (admins)",
                "security": ADMIN,
                "requestBody": _body(
                    {
                        "name": {"type": "string", "maxLength": 64},
                        "role": {"enum": ["supervisor", "auditor", "analyst", "admin"]},
                        "password": {"type": "string", "minLength": 10, "maxLength": 256},
                    },
                    ["name", "role", "password"],
                ),
                "responses": _responses("added", *BODY_ERRORS, 401, 403, 409, ok_status=201),
            },
        },
        "/api/admin/users/{name}": {
            "post": {
                "summary": "change an account's role or password, or disable it (admins)",
                "security": ADMIN,
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": _body(
                    {
                        "role": {"enum": ["supervisor", "auditor", "analyst", "admin"]},
                        "password": {"type": "string", "minLength": 10, "maxLength": 256},
                        "enabled": {"const": False},
                    }
                ),
                "responses": _responses("changed", *BODY_ERRORS, 401, 403, 404, 409),
            }
        },
        "/api/admin/get-monitor-token": {
            "post": {
                "summary": "a hidden listen-only token for a call (audited)",
                "security": ADMIN,
                "requestBody": _body(
                    {"conversation_id": {"type": "string", "format": "uuid"}}, ["conversation_id"]
                ),
                "responses": _responses("token", *BODY_ERRORS, 401, 403, 404, 409),
            }
        },
        "/api/admin/conversations/{id}/reveal": {
            "post": {
                "summary": "show the signed-in auditor or admin this call's personal data "
                "for a while (recorded)",
                "security": ADMIN,
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": _body({"reason": {"type": "string", "maxLength": 500}}, ["reason"]),
                "responses": _responses("until", *BODY_ERRORS, 401, 403, 404, 409),
            }
        },
        "/api/admin/conversations/{id}/erase": {
            "post": {
                "summary": "erase a call's personal data and recordings for good (admins)",
                "security": ADMIN,
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": _body({"reason": {"type": "string", "maxLength": 500}}, ["reason"]),
                "responses": {
                    **_responses("erased", *BODY_ERRORS, 401, 403, 404, 409),
                    "202": {"description": "the erasure is still running; ask again"},
                },
            }
        },
        "/api/admin/listen-ended": {
            "post": {
                "summary": "a supervisor stopped listening",
                "security": ADMIN,
                "requestBody": _body(
                    {
                        "conversation_id": {"type": "string", "format": "uuid"},
                        "listen_id": {"type": "string"},
                    },
                    ["conversation_id", "listen_id"],
                ),
                "responses": _responses("recorded", *BODY_ERRORS, 401, 403, 404, 409),
            }
        },
        "/api/admin/escalations": {
            "get": {
                "summary": "callers waiting for a person, longest first (supervisors, admins)",
                "security": ADMIN,
                "responses": _responses("queue", 401, 403),
            }
        },
        "/api/admin/conversations/{id}/coach": {
            "post": {
                "summary": "guidance for the AI's next replies; the caller never hears it",
                "security": ADMIN,
                "parameters": [CONVERSATION_ID],
                "requestBody": _body({"text": {"type": "string", "maxLength": 500}}, ["text"]),
                "responses": _responses("ok, position", *BODY_ERRORS, 401, 403, 404, 409, 502),
            }
        },
        **{
            f"/api/admin/conversations/{{id}}/{act}": {
                "post": {
                    "summary": summary,
                    "security": ADMIN,
                    "parameters": [CONVERSATION_ID],
                    "responses": _responses(ok, 401, 403, 404, 409, 502),
                }
            }
            for act, summary, ok in (
                ("barge", "join the call with a microphone beside the AI", "speaking token"),
                ("takeover", "the AI stops answering; the supervisor talks", "speaking token"),
                ("accept", "take over a call whose caller asked for a person", "speaking token"),
                ("handback", "the AI answers again", "ok"),
                ("end", "end the call (the agent says goodbye first)", "ok"),
            )
        },
        "/api/admin/conversations/{id}/acts": {
            "get": {
                "summary": "supervisors' acts on the call, in order (the audit read model)",
                "security": ADMIN,
                "parameters": [CONVERSATION_ID],
                "responses": _responses("acts", 401, 403, 404),
            }
        },
        "/api/conversations": {
            "get": {
                "summary": "conversations, newest activity first",
                "security": ADMIN,
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["active", "ended"]},
                    },
                    {"name": "room", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                    },
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    *(
                        {"name": name, "in": "query", "schema": {"type": "string"}}
                        for name in HISTORY_FILTERS
                    ),
                ],
                "responses": _responses("a page of conversations", 400, 401, 403, 422),
            }
        },
        "/api/search": {
            "get": {
                "summary": "full-text search over final transcript lines, newest first",
                "security": ADMIN,
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": _responses("a page of hits", 400, 401, 403),
            }
        },
        **{
            path: {
                "get": {
                    "summary": summary,
                    "security": ADMIN,
                    "parameters": [
                        {"name": "from", "in": "query", "schema": {"type": "string"}},
                        {"name": "to", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "bucket",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["hour", "day"]},
                        },
                    ],
                    "responses": _responses(summary, 400, 401, 403),
                }
            }
            for path, summary in (
                ("/api/analytics", "calls, containment, handle time, latency per bucket"),
                ("/api/analytics.csv", "the same analytics as CSV, a line per bucket"),
            )
        },
        "/api/conversations/{id}": {
            "get": {
                "summary": "one conversation",
                "security": ADMIN,
                "parameters": [CONVERSATION_ID],
                "responses": _responses("conversation", 401, 403, 404),
            }
        },
        "/api/conversations/{id}/transcript": {
            "get": {
                "summary": "final lines and interims",
                "security": ADMIN,
                "parameters": [CONVERSATION_ID],
                "responses": _responses("transcript", 401, 403, 404),
            }
        },
        "/api/conversations/{id}/timeline": {
            "get": {
                "summary": "every event, and the state at `at`",
                "security": ADMIN,
                "parameters": [
                    CONVERSATION_ID,
                    {
                        "name": "at",
                        "in": "query",
                        "schema": {"type": "string", "format": "date-time"},
                    },
                ],
                "responses": _responses("timeline", 401, 403, 404, 422),
            }
        },
        "/api/conversations/{id}/recording": {
            "get": {
                "summary": "a short-lived URL of the recording",
                "security": ADMIN,
                "parameters": [CONVERSATION_ID],
                "responses": _responses("url", 401, 403, 404, 503),
            }
        },
        "/api/conversations/{id}/recording/audio": {
            "get": {
                "summary": "the recording itself, streamed, with range requests (one range)",
                "security": ADMIN,
                "parameters": [
                    CONVERSATION_ID,
                    {
                        "name": "Range",
                        "in": "header",
                        "schema": {"type": "string", "example": "bytes=0-99"},
                    },
                ],
                "responses": {
                    "200": {"description": "the whole recording", **AUDIO},
                    "206": {
                        "description": "the range asked for (Content-Range, Accept-Ranges)",
                        **AUDIO,
                    },
                    **{
                        code: spec
                        for code, spec in _responses("", 400, 401, 403, 404, 503).items()
                        if code != "200"
                    },
                    "416": {
                        "description": "no byte of the range is stored (Content-Range: bytes */N)",
                        **_json(ERROR),
                    },
                },
            }
        },
        "/api/conversations/{id}/revealed": {
            "get": {
                "summary": "the call's timeline as said, to whom it was revealed, until then",
                "security": ADMIN,
                "parameters": [
                    CONVERSATION_ID,
                    {"name": "at", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": _responses("timeline", 401, 403, 404, 422),
            }
        },
        "/api/conversations/{id}/insight": {
            "get": {
                "summary": "post-call insight: summary, customer sentiment, QA scorecard",
                "security": ADMIN,
                "parameters": [CONVERSATION_ID],
                "responses": _responses(
                    "insight",
                    401,
                    403,
                    404,
                    ok_schema={
                        "type": "object",
                        "required": ["summary", "sentiment", "qa"],
                        "properties": {
                            "summary": {"type": ["object", "null"]},
                            "sentiment": {"type": ["object", "null"]},
                            "qa": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["rule", "passed", "reason"],
                                    "properties": {
                                        "rule": {"type": "string"},
                                        "passed": {"type": "boolean"},
                                        "reason": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                ),
            }
        },
        "/api/stream": {
            "get": {
                "summary": "dashboard Server-Sent Events (resume with Last-Event-ID)",
                "security": ADMIN,
                "responses": {
                    "200": {
                        "description": "event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "401": {"description": "not authorised", **_json(ERROR)},
                },
            }
        },
        "/api/conversations/{id}/stream": {
            "get": {
                "summary": "one call's Server-Sent Events (resume with Last-Event-ID)",
                "security": ADMIN,
                "parameters": [CONVERSATION_ID],
                "responses": {
                    "200": {
                        "description": "event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "401": {"description": "not authorised", **_json(ERROR)},
                    "403": {"description": "the signed-in role may not do this", **_json(ERROR)},
                    "404": {"description": "unknown", **_json(ERROR)},
                },
            }
        },
        "/webhook/livekit": {
            "post": {
                "summary": "LiveKit webhooks (signed JWT in Authorization)",
                "requestBody": {
                    "required": True,
                    "content": {"application/webhook+json": {"schema": {"type": "object"}}},
                },
                "responses": _responses("recorded, duplicate, ignored or refused", 400, 401, 413),
            }
        },
        "/webhook/egress": {
            "post": {
                "summary": "alias of /webhook/livekit",
                "requestBody": {
                    "required": True,
                    "content": {"application/webhook+json": {"schema": {"type": "object"}}},
                },
                "responses": _responses("recorded, duplicate, ignored or refused", 400, 401, 413),
            }
        },
    },
}


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(SPEC)

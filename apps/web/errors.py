"""Every error is JSON: `{"error": code, "reason": sentence}` with a 4xx status for bad input."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from domain.errors import DomainError, InvalidCommand

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        reason: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason, self.extra = status, code, reason, extra
        self.headers = headers


def error_response(status: int, code: str, reason: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "reason": reason, **extra}, status_code=status)


async def api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    response = error_response(exc.status, exc.code, exc.reason, **exc.extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = 422 if isinstance(exc, InvalidCommand) else 409
    return error_response(status, exc.code, exc.message)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    reason = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and reason == "Not Found":
        reason = f"no route for {request.method} {request.url.path}"
    return JSONResponse(
        {"error": _HTTP_CODES.get(exc.status_code, "error"), "reason": reason},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def client_gone(request: Request, exc: Exception) -> JSONResponse:
    """The client hung up mid-request: nothing was recorded, and nobody reads the reply."""
    log.info("client disconnected during %s %s", request.method, request.url.path)
    return error_response(400, "client_disconnected", "the client closed the connection")


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "the server failed to handle this request")


HANDLERS: dict[Any, Any] = {
    ClientDisconnect: client_gone,
    ApiError: api_error,
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}

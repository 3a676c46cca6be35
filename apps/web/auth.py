"""Staff access: named accounts (see `apps.usecases.accounts`), a signed session cookie or
bearer token naming the account and its session epoch, and route guards by right."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import wraps

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from apps.usecases.accounts import Staff, StaffAccounts
from apps.web.dependencies import deps
from apps.web.errors import ApiError

COOKIE = "cc_admin"


class StaffAuth:
    """Signs sessions and finds the signed-in person of a request."""

    def __init__(
        self, accounts: StaffAccounts, secret: str, *, ttl_s: int, secure_cookie: bool
    ) -> None:
        self.accounts = accounts
        self.ttl_s = ttl_s
        self.secure_cookie = secure_cookie
        self._signer = URLSafeTimedSerializer(secret, salt="callcenter-admin")

    def check(self, username: str, password: str) -> Staff | None:
        """Blocking (the KDF and the store): run it in a thread."""
        return self.accounts.sign_in(username, password)

    def issue(self, staff: Staff) -> str:
        return self._signer.dumps({"u": staff.name, "e": staff.session_epoch})

    async def user(self, request: Request) -> Staff | None:
        token = request.cookies.get(COOKIE)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        if not token:
            return None
        try:
            data = self._signer.loads(token, max_age=self.ttl_s)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        name, epoch = data.get("u"), data.get("e")
        if not isinstance(name, str) or not isinstance(epoch, int):
            return None
        return await asyncio.to_thread(self.accounts.current, name, epoch)

    def set_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            max_age=self.ttl_s,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
            path="/",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="strict", secure=self.secure_cookie
        )


Endpoint = Callable[[Request], Awaitable[Response]]


async def _signed_in(request: Request) -> Staff:
    staff = await deps(request).auth.user(request)
    if staff is None:
        raise ApiError(401, "unauthorized", "sign in required")
    request.state.admin = staff.name  # who, for every audited act
    request.state.role = staff.role
    request.state.staff = staff
    return staff


def signed_in(endpoint: Endpoint) -> Endpoint:
    """401 JSON without a valid session or bearer token; any role may pass."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        await _signed_in(request)
        return await endpoint(request)

    return guarded


def requires(right: str) -> Callable[[Endpoint], Endpoint]:
    """401 JSON when not signed in, 403 JSON when the account's role lacks ``right``."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            staff = await _signed_in(request)
            if not staff.may(right):
                raise ApiError(403, "forbidden", f"the {staff.role} role may not do this ({right})")
            return await endpoint(request)

        guarded.required_right = right  # type: ignore[attr-defined]
        return guarded

    return decorate

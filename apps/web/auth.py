"""Admin access: one admin account from the environment, a signed session cookie or
bearer token, credentials compared in constant time against a PBKDF2 hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from apps.web.dependencies import deps
from apps.web.errors import ApiError

COOKIE = "cc_admin"
ITERATIONS = 210_000


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"pbkdf2_sha256${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, iterations, salt, expected = encoded.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    return hmac.compare_digest(digest, base64.b64decode(expected))


class AdminAuth:
    def __init__(
        self, username: str, password_hash: str, secret: str, *, ttl_s: int, secure_cookie: bool
    ) -> None:
        self.username = username
        self.password_hash = password_hash
        self.ttl_s = ttl_s
        self.secure_cookie = secure_cookie
        self._signer = URLSafeTimedSerializer(secret, salt="callcenter-admin")

    def check(self, username: str, password: str) -> bool:
        # Both comparisons always run, so timing says nothing about which was wrong.
        name_ok = hmac.compare_digest(username.encode(), self.username.encode())
        password_ok = verify_password(password, self.password_hash)
        return name_ok and password_ok

    def issue(self, username: str) -> str:
        return self._signer.dumps({"u": username})

    def user(self, request: Request) -> str | None:
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
        user = data.get("u") if isinstance(data, dict) else None
        return user if user == self.username else None

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


def admin_required(endpoint: Endpoint) -> Endpoint:
    """401 JSON for API clients without a valid session or bearer token."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        user = deps(request).auth.user(request)
        if user is None:
            raise ApiError(401, "unauthorized", "admin login required")
        request.state.admin = user
        return await endpoint(request)

    return guarded

"""Account management for admins: list, add, change role or password, disable."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from apps.usecases.accounts import AccountError
from apps.web import body
from apps.web.auth import requires
from apps.web.dependencies import deps
from apps.web.errors import ApiError
from domain.accounts import AccountConflict, AccountNotFound


def _refused(e: AccountError) -> ApiError:
    if isinstance(e, AccountNotFound):
        return ApiError(404, "not_found", str(e))
    if isinstance(e, AccountConflict):
        return ApiError(409, "conflict", str(e))
    return ApiError(422, "invalid_account", str(e))


@requires("manage_accounts")
async def list_users(request: Request) -> JSONResponse:
    items = await asyncio.to_thread(deps(request).auth.accounts.listing)
    return JSONResponse({"items": items})


@requires("manage_accounts")
async def add_user(request: Request) -> JSONResponse:
    data = await body.read_json(request, max_bytes=4096)
    name = body.string(data, "name", required=True, max_len=64) or ""
    role = body.string(data, "role", required=True, max_len=32) or ""
    password = body.string(data, "password", required=True, max_len=256) or ""
    accounts = deps(request).auth.accounts
    try:
        staff = await asyncio.to_thread(accounts.add, name, role, password, request.state.admin)
    except AccountError as e:
        raise _refused(e) from None
    return JSONResponse({"name": staff.name, "role": staff.role}, status_code=201)


@requires("manage_accounts")
async def change_user(request: Request) -> JSONResponse:
    """{"role"} and/or {"password"}, or {"enabled": false}."""
    name = request.path_params["name"]
    data = await body.read_json(request, max_bytes=4096)
    role = body.string(data, "role", max_len=32)
    password = body.string(data, "password", max_len=256)
    enabled = data.get("enabled")
    if enabled not in (None, False):
        raise ApiError(422, "invalid_parameter", "'enabled' may only be false (disable)")
    if role is None and password is None and enabled is None:
        raise ApiError(422, "invalid_parameter", "give 'role', 'password' or 'enabled': false")
    accounts, by = deps(request).auth.accounts, request.state.admin
    try:
        if role is not None:
            await asyncio.to_thread(accounts.set_role, name, role, by)
        if password is not None:
            await asyncio.to_thread(accounts.set_password, name, password, by)
        if enabled is False:
            await asyncio.to_thread(accounts.disable, name, by)
    except AccountError as e:
        raise _refused(e) from None
    return JSONResponse({"ok": True})

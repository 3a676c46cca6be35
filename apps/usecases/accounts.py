"""Staff accounts' use cases: sign in, check a session, add and change accounts.

Every entry point (the web app, `callcenter users`) goes through :class:`StaffAccounts`.
Its methods block (the store and the KDF): async callers run them in a thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.passwords import hash_password, needs_rehash, verify_password, waste_a_verification
from domain.account_directory import AccountDirectory
from domain.accounts import RIGHTS, Account, AccountError, check_name, may

__all__ = ["AccountError", "Staff", "StaffAccounts", "ENVIRONMENT"]

log = logging.getLogger(__name__)

#: Who changed an account when it was the configured first admin, not a person
ENVIRONMENT = "environment"
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class Staff:
    """A signed-in person as a request sees them."""

    name: str
    role: str
    session_epoch: int

    def may(self, right: str) -> bool:
        return may(self.role, right)

    @property
    def rights(self) -> list[str]:
        return sorted(RIGHTS[self.role])

    @classmethod
    def of(cls, account: Account) -> Staff:
        return cls(account.name, account.role, account.session_epoch)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return password


class StaffAccounts:
    def __init__(
        self,
        directory: AccountDirectory,
        *,
        first_admin: str | None = None,
        first_admin_hash: str | None = None,
        cache_ttl_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``first_admin`` with its password hash is the configured admin
        (CALLCENTER_ADMIN_USER / CALLCENTER_ADMIN_PASSWORD): registered if missing, and its
        configured password keeps working (recorded as a password change when it differs)."""
        self.directory = directory
        self._first_admin = first_admin
        self._first_admin_hash = first_admin_hash
        self._ttl = cache_ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, Account | None]] = {}
        self._lock = threading.Lock()

    def bootstrap(self) -> None:
        """Register the configured first admin once (idempotent, also across processes)."""
        if not self._first_admin or not self._first_admin_hash:
            return
        if self.directory.account(self._first_admin) is not None:
            return
        try:
            self.directory.register(
                self._first_admin, "admin", self._first_admin_hash, by=ENVIRONMENT
            )
            log.info("registered the configured admin account %r", self._first_admin)
        except AccountError:  # another process registered it first
            pass

    # --- signing in and sessions -------------------------------------------------------

    def sign_in(self, name: str, password: str) -> Staff | None:
        account = self.directory.account(name) if _valid_name(name) else None
        if account is None and name != self._first_admin:
            waste_a_verification(password)
            return None
        if account is not None and verify_password(password, account.password_hash):
            if not account.enabled:
                return None
            if needs_rehash(account.password_hash):
                self.directory.rehash_password(name, hash_password(password))
            return Staff.of(self._fresh(name) or account)
        if self._configured_admin_password(name, password):
            return self._adopt_configured_password(name, password, account)
        return None

    def _configured_admin_password(self, name: str, password: str) -> bool:
        return (
            name == self._first_admin
            and self._first_admin_hash is not None
            and verify_password(password, self._first_admin_hash)
        )

    def _adopt_configured_password(
        self, name: str, password: str, account: Account | None
    ) -> Staff | None:
        if account is None:
            self.bootstrap()
            account = self.directory.account(name)
            if account is None:
                return None
        if not account.enabled:
            return None  # a disabled admin stays disabled, whatever the environment says
        if not verify_password(password, account.password_hash):
            account = self.directory.change_password(name, hash_password(password), ENVIRONMENT)
            log.info("the configured admin password for %r was recorded as changed", name)
        return Staff.of(account)

    def current(self, name: str, session_epoch: int) -> Staff | None:
        """The session's person if the account is still enabled and the session still
        current (no password change or disabling since); cached for a moment."""
        account = self._cached(name)
        if account is None or not account.enabled or account.session_epoch != session_epoch:
            return None
        return Staff.of(account)

    def _cached(self, name: str) -> Account | None:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(name)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        return self._fresh(name)

    def _fresh(self, name: str) -> Account | None:
        account = self.directory.account(name) if _valid_name(name) else None
        with self._lock:
            self._cache[name] = (self._clock(), account)
        return account

    # --- managing accounts -------------------------------------------------------------

    def add(self, name: str, role: str, password: str, by: str) -> Staff:
        check_password(password)
        return Staff.of(self.directory.register(name, role, hash_password(password), by=by))

    def set_password(self, name: str, password: str, by: str) -> None:
        check_password(password)
        self.directory.change_password(name, hash_password(password), by)
        self._fresh(name)

    def set_role(self, name: str, role: str, by: str) -> Staff:
        account = self.directory.change_role(name, role, by)
        self._fresh(name)
        return Staff.of(account)

    def disable(self, name: str, by: str) -> None:
        self.directory.disable(name, by)
        self._fresh(name)

    def listing(self) -> list[dict[str, Any]]:
        return [
            {
                "name": a.name,
                "role": a.role,
                "enabled": a.enabled,
                "registered_by": a.registered_by,
                "registered_at": a.created_on.isoformat(),
                "changed_at": a.modified_on.isoformat(),
            }
            for a in self.directory.accounts()
        ]


def _valid_name(name: str) -> bool:
    try:
        check_name(name)
    except AccountError:
        return False
    return True

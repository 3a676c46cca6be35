"""Staff accounts: who signs in, with which role, and what each role may do.

An account is an aggregate of its own: registered with a role and a password hash, then
its role changed, its password changed, or disabled. Hashing happens outside (a KDF is
not the model's business); the model keeps the hash and a session epoch that every
password change and every disabling moves on, so sessions issued before stop working.
"""

from __future__ import annotations

import re
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError

ROLES = ("supervisor", "auditor", "analyst", "admin")

#: What a role may do. Supervisors act on and watch calls; auditors replay finished calls
#: (timelines and recordings) and read their transcripts; analysts see aggregate figures
#: only; auditors and admins may reveal one call's personal data for a while (recorded);
#: admins do everything, manage accounts, and alone may erase a call.
RIGHTS: dict[str, frozenset[str]] = {
    "supervisor": frozenset({"watch_calls", "act_on_calls", "replay_calls"}),
    "auditor": frozenset({"watch_calls", "replay_calls", "reveal_pii"}),
    "analyst": frozenset({"see_analytics"}),
    "admin": frozenset(
        {
            "watch_calls",
            "act_on_calls",
            "replay_calls",
            "see_analytics",
            "manage_accounts",
            "reveal_pii",
            "erase_calls",
        }
    ),
}
ALL_RIGHTS = frozenset().union(*RIGHTS.values())

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_NAMESPACE = uuid5(NAMESPACE_URL, "callcenter:account")


class AccountError(DomainError):
    """A refused account change; the message says why."""


class AccountNotFound(AccountError):
    """No account has that name."""


class AccountConflict(AccountError):
    """The change contradicts the accounts as they are (a taken name, a disabled account,
    the last admin)."""


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise AccountError(
            "an account name is 1-64 characters: lower-case letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    return role


def may(role: str, right: str) -> bool:
    return right in RIGHTS.get(role, frozenset())


class Account(Aggregate):
    """One person's sign-in. Its id follows from its name, so a name is taken once."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(_NAMESPACE, name)

    @event("Registered")
    def __init__(self, name: str, role: str, password_hash: str, registered_by: str) -> None:
        check_name(name)
        check_role(role)
        self.name = name
        self.role = role
        self.password_hash = password_hash
        self.registered_by = registered_by
        self.enabled = True
        self.session_epoch = 0

    def change_role(self, role: str, changed_by: str) -> None:
        check_role(role)
        if not self.enabled:
            raise AccountConflict(f"account {self.name!r} is disabled")
        if role != self.role:
            self._role_changed(role, changed_by)

    @event("RoleChanged")
    def _role_changed(self, role: str, changed_by: str) -> None:
        self.role = role

    def change_password(self, password_hash: str, changed_by: str) -> None:
        if not self.enabled:
            raise AccountConflict(f"account {self.name!r} is disabled")
        self._password_changed(password_hash, changed_by)

    @event("PasswordChanged")
    def _password_changed(self, password_hash: str, changed_by: str) -> None:
        self.password_hash = password_hash
        self.session_epoch += 1

    @event("PasswordRehashed")
    def rehash_password(self, password_hash: str) -> None:
        """The same password under a stronger hash: sessions stay valid."""
        self.password_hash = password_hash

    def disable(self, disabled_by: str) -> None:
        if not self.enabled:
            raise AccountConflict(f"account {self.name!r} is already disabled")
        self._disabled(disabled_by)

    @event("Disabled")
    def _disabled(self, disabled_by: str) -> None:
        self.enabled = False
        self.session_epoch += 1

"""Staff accounts on an in-memory store: the aggregate's rules, the directory, and signing
in (the KDF, the configured first admin, sessions that stop)."""

from __future__ import annotations

import pytest

from adapters.passwords import hash_password, needs_rehash, pbkdf2_hash, verify_password
from apps.usecases.accounts import StaffAccounts
from domain.account_directory import AccountDirectory
from domain.accounts import (
    ALL_RIGHTS,
    RIGHTS,
    ROLES,
    Account,
    AccountConflict,
    AccountError,
    AccountNotFound,
    may,
)

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def directory() -> AccountDirectory:
    return AccountDirectory()  # no persistence settings: eventsourcing's in-memory store


def test_every_role_has_rights_and_only_admins_manage_accounts() -> None:
    assert set(RIGHTS) == set(ROLES)
    assert RIGHTS["admin"] == ALL_RIGHTS
    assert [r for r in ROLES if may(r, "manage_accounts")] == ["admin"]
    assert [r for r in ROLES if may(r, "act_on_calls")] == ["supervisor", "admin"]
    assert not may("analyst", "watch_calls") and may("analyst", "see_analytics")
    assert may("auditor", "replay_calls") and not may("auditor", "act_on_calls")


def test_an_account_is_its_events(directory: AccountDirectory) -> None:
    directory.register("ann", "supervisor", "h1", by="cli")
    directory.change_role("ann", "auditor", by="boss")
    directory.change_password("ann", "h2", by="boss")
    directory.rehash_password("ann", "h3")
    directory.disable("ann", by="boss")
    ann = directory.account("ann")
    assert ann is not None
    stored = [n.topic.rsplit(".", 1)[-1] for n in directory.recorder.select_notifications(1, 10)]
    assert stored == [
        "Registered",
        "RoleChanged",
        "PasswordChanged",
        "PasswordRehashed",
        "Disabled",
    ]
    assert (ann.role, ann.password_hash, ann.enabled, ann.session_epoch) == (
        "auditor",
        "h3",
        False,
        2,
    )
    assert ann.id == Account.create_id("ann")


def test_names_roles_and_taken_names_are_refused(directory: AccountDirectory) -> None:
    for bad in ("", "Ann", "ann lee", "-ann", "a" * 65, "ann;drop"):
        with pytest.raises(AccountError, match="account name"):
            directory.register(bad, "supervisor", "h", by="cli")
    with pytest.raises(AccountError, match="role must be one of"):
        directory.register("ann", "root", "h", by="cli")
    directory.register("ann", "supervisor", "h", by="cli")
    with pytest.raises(AccountConflict, match="already exists"):
        directory.register("ann", "admin", "h", by="cli")
    with pytest.raises(AccountNotFound):
        directory.disable("bob", by="cli")
    directory.disable("ann", by="cli")
    with pytest.raises(AccountConflict, match="disabled"):
        directory.change_password("ann", "h2", by="cli")


def test_the_last_enabled_admin_stays(directory: AccountDirectory) -> None:
    directory.register("root", "admin", "h", by="cli")
    with pytest.raises(AccountConflict, match="last enabled admin"):
        directory.disable("root", by="cli")
    with pytest.raises(AccountConflict, match="last enabled admin"):
        directory.change_role("root", "analyst", by="cli")
    directory.register("second", "admin", "h", by="cli")
    directory.change_role("root", "analyst", by="second")
    assert [(a.name, a.role) for a in directory.accounts()] == [
        ("root", "analyst"),
        ("second", "admin"),
    ]


def test_argon2_for_new_hashes_and_old_pbkdf2_hashes_still_verify() -> None:
    new = hash_password(PASSWORD)
    assert new.startswith("$argon2id$") and verify_password(PASSWORD, new)
    assert not verify_password("wrong password", new) and not needs_rehash(new)
    old = pbkdf2_hash(PASSWORD, iterations=1000)
    assert verify_password(PASSWORD, old) and needs_rehash(old)
    assert not verify_password(PASSWORD, "not a hash") and not verify_password(PASSWORD, "")


def test_signing_in_rehashes_old_hashes_and_refuses_disabled_accounts(
    directory: AccountDirectory,
) -> None:
    accounts = StaffAccounts(directory)
    directory.register("ann", "supervisor", pbkdf2_hash(PASSWORD, iterations=1000), by="cli")
    assert accounts.sign_in("ann", "wrong password") is None
    ann = accounts.sign_in("ann", PASSWORD)
    assert ann is not None and (ann.name, ann.role) == ("ann", "supervisor")
    stored = directory.account("ann")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert accounts.sign_in("ann", PASSWORD) == ann  # a rehash keeps the session epoch
    assert accounts.sign_in("nobody", PASSWORD) is None
    assert accounts.sign_in("NOT A NAME", PASSWORD) is None
    accounts.disable("ann", by="cli")
    assert accounts.sign_in("ann", PASSWORD) is None


def test_a_session_stops_when_the_password_changes_or_the_account_is_disabled(
    directory: AccountDirectory,
) -> None:
    clock = Clock()
    accounts = StaffAccounts(directory, cache_ttl_s=2.0, clock=clock)
    accounts.add("ann", "supervisor", PASSWORD, by="cli")
    ann = accounts.sign_in("ann", PASSWORD)
    assert ann is not None and accounts.current("ann", ann.session_epoch) == ann
    accounts.set_password("ann", "another long password", by="cli")
    assert accounts.current("ann", ann.session_epoch) is None  # at once, in this process
    again = accounts.sign_in("ann", "another long password")
    assert again is not None and again.session_epoch == ann.session_epoch + 1
    # another process disabled the account: this one notices within the cache's lifetime
    directory.disable("ann", by="elsewhere")
    assert accounts.current("ann", again.session_epoch) == again
    clock.now += 2.1
    assert accounts.current("ann", again.session_epoch) is None


def test_short_passwords_are_refused(directory: AccountDirectory) -> None:
    with pytest.raises(AccountError, match="at least 10 characters"):
        StaffAccounts(directory).add("ann", "analyst", "short", by="cli")
    assert directory.account("ann") is None


def test_the_configured_admin_is_registered_once_and_its_password_keeps_working(
    directory: AccountDirectory,
) -> None:
    configured = pbkdf2_hash("configured admin pw", iterations=1000)
    accounts = StaffAccounts(directory, first_admin="admin", first_admin_hash=configured)
    accounts.bootstrap()
    accounts.bootstrap()
    StaffAccounts(directory, first_admin="admin", first_admin_hash=configured).bootstrap()
    assert [(a.name, a.role, a.registered_by) for a in directory.accounts()] == [
        ("admin", "admin", "environment")
    ]
    accounts.set_password("admin", "changed from the cli", by="cli")
    # the operator still has the configured password: it works, recorded as a change
    admin = accounts.sign_in("admin", "configured admin pw")
    assert admin is not None and admin.role == "admin"
    topics = [n.topic.rsplit(".", 1)[-1] for n in directory.recorder.select_notifications(1, 10)]
    assert topics == ["Registered", "PasswordChanged", "PasswordChanged"]
    assert accounts.sign_in("admin", "changed from the cli") is None

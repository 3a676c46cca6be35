"""The accounts' application service: every change to an account is an event in the store.

A separate eventsourcing application beside the call center's (its own events table in
the same database): accounts are few, change rarely, and are read by name.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.accounts import Account, AccountConflict, AccountNotFound, check_name, check_role


class AccountDirectory(Application[UUID]):
    name = "Accounts"
    is_snapshotting_enabled = False

    def account(self, name: str) -> Account | None:
        try:
            account: Account = self.repository.get(Account.create_id(name))
        except AggregateNotFoundError:
            return None
        return account

    def accounts(self) -> list[Account]:
        """Every account, in the order they were registered."""
        ids: list[UUID] = []
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 500)
            for n in page:
                originator = UUID(str(n.originator_id))
                if originator not in ids:
                    ids.append(originator)
            if len(page) < 500:
                break
            start = page[-1].id + 1
        return [self.repository.get(i) for i in ids]

    def register(self, name: str, role: str, password_hash: str, by: str) -> Account:
        check_name(name)
        check_role(role)
        if self.account(name) is not None:
            raise AccountConflict(f"account {name!r} already exists")
        account = Account(name, role, password_hash, registered_by=by)
        try:
            self.save(account)
        except IntegrityError:  # registered by someone else meanwhile
            raise AccountConflict(f"account {name!r} already exists") from None
        return account

    def _existing(self, name: str) -> Account:
        account = self.account(name)
        if account is None:
            raise AccountNotFound(f"no account {name!r}")
        return account

    def change_role(self, name: str, role: str, by: str) -> Account:
        account = self._existing(name)
        if account.role == "admin" and role != "admin":
            self._keep_an_admin(account)
        account.change_role(role, changed_by=by)
        self.save(account)
        return account

    def change_password(self, name: str, password_hash: str, by: str) -> Account:
        account = self._existing(name)
        account.change_password(password_hash, changed_by=by)
        self.save(account)
        return account

    def rehash_password(self, name: str, password_hash: str) -> None:
        account = self._existing(name)
        account.rehash_password(password_hash)
        self.save(account)

    def disable(self, name: str, by: str) -> Account:
        account = self._existing(name)
        if account.role == "admin":
            self._keep_an_admin(account)
        account.disable(disabled_by=by)
        self.save(account)
        return account

    def _keep_an_admin(self, leaving: Account) -> None:
        others = [
            a for a in self.accounts() if a.role == "admin" and a.enabled and a.id != leaving.id
        ]
        if leaving.enabled and not others:
            raise AccountConflict(f"{leaving.name!r} is the last enabled admin")

"""Named accounts through the web app and the CLI, on the real store: each role signs in as
itself, routes refuse a role without the right (403 JSON), admins manage accounts, and a
disabled account's session stops."""

from __future__ import annotations

import io
import time
from contextlib import closing

import httpx
import pytest

from apps.cli import main as cli_main
from tests.web.conftest import WebServer

PASSWORD = "a long enough password"
ZERO = "00000000-0000-0000-0000-000000000000"
#: (method, path, the right it needs); a 404 or 422 past the guard means it let the role in
GUARDED = [
    ("GET", "/api/conversations", "watch_calls"),
    ("GET", f"/api/conversations/{ZERO}", "watch_calls"),
    ("GET", f"/api/conversations/{ZERO}/transcript", "watch_calls"),
    ("GET", f"/api/conversations/{ZERO}/timeline", "replay_calls"),
    ("GET", f"/api/conversations/{ZERO}/recording", "replay_calls"),
    ("GET", f"/api/conversations/{ZERO}/recording/audio", "replay_calls"),
    ("GET", f"/api/conversations/{ZERO}/insight", "replay_calls"),
    ("POST", "/api/admin/get-monitor-token", "act_on_calls"),
    ("POST", "/api/admin/listen-ended", "act_on_calls"),
    ("GET", "/api/admin/users", "manage_accounts"),
    ("GET", "/api/analytics", "see_analytics"),
    ("GET", "/api/analytics.csv", "see_analytics"),
    ("POST", "/api/admin/users", "manage_accounts"),
    ("POST", f"/api/admin/conversations/{ZERO}/reveal", "reveal_pii"),
    ("GET", f"/api/conversations/{ZERO}/revealed", "reveal_pii"),
    ("POST", f"/api/admin/conversations/{ZERO}/erase", "erase_calls"),
]
CAN = {
    "supervisor": {"watch_calls", "act_on_calls", "replay_calls"},
    "auditor": {"watch_calls", "replay_calls", "reveal_pii"},
    "analyst": {"see_analytics"},
}


def sign_in(web: WebServer, name: str, password: str = PASSWORD) -> httpx.Client:
    client = web.client()
    r = client.post("/api/admin/login", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return client


def test_each_role_signs_in_as_itself_and_is_refused_what_it_may_not_do(web: WebServer) -> None:
    with closing(web.admin()) as admin:
        for role in CAN:
            r = admin.post(
                "/api/admin/users", json={"name": f"{role}-1", "role": role, "password": PASSWORD}
            )
            assert r.status_code == 201, r.text
        listed = admin.get("/api/admin/users").json()["items"]
        assert [(u["name"], u["role"], u["registered_by"]) for u in listed] == [
            ("admin", "admin", "environment"),
            ("supervisor-1", "supervisor", "admin"),
            ("auditor-1", "auditor", "admin"),
            ("analyst-1", "analyst", "admin"),
        ]
    for role, rights in CAN.items():
        with closing(sign_in(web, f"{role}-1")) as client:
            me = client.get("/api/admin/me").json()
            assert me == {"name": f"{role}-1", "role": role, "can": sorted(rights)}
            for method, path, right in GUARDED:
                r = client.request(method, path, json={})
                if right in rights:
                    assert r.status_code not in (401, 403), (role, path, r.text)
                else:
                    assert r.status_code == 403, (role, path)
                    assert r.json() == {
                        "error": "forbidden",
                        "reason": f"the {role} role may not do this ({right})",
                    }
            stream = client.get("/api/stream", headers={"Accept": "text/event-stream"}, timeout=2) \
                if "watch_calls" not in rights else None  # fmt: skip
            if stream is not None:
                assert stream.status_code == 403


def test_account_changes_are_checked_and_a_disabled_session_stops(web: WebServer) -> None:
    with closing(web.admin()) as admin:
        body = {"name": "ann", "role": "supervisor", "password": PASSWORD}
        assert admin.post("/api/admin/users", json=body).status_code == 201
        taken = admin.post("/api/admin/users", json=body)
        assert taken.status_code == 409 and "already exists" in taken.json()["reason"]
        for bad, reason in (
            ({**body, "name": "Ann Lee"}, "account name"),
            ({**body, "name": "bob", "role": "root"}, "role must be one of"),
            ({**body, "name": "bob", "password": "short"}, "at least 10 characters"),
        ):
            r = admin.post("/api/admin/users", json=bad)
            assert r.status_code == 422 and reason in r.json()["reason"], r.text
        assert admin.post("/api/admin/users/nobody", json={"role": "auditor"}).status_code == 404
        last = admin.post("/api/admin/users/admin", json={"enabled": False})
        assert last.status_code == 409 and "last enabled admin" in last.json()["reason"]
        with closing(sign_in(web, "ann")) as ann:
            assert ann.get("/api/conversations").status_code == 200
            r = admin.post("/api/admin/users/ann", json={"enabled": False})
            assert r.status_code == 200, r.text
            deadline = time.monotonic() + 5  # other processes notice within the cache's 2 s
            while ann.get("/api/conversations").status_code != 401:
                assert time.monotonic() < deadline, "the disabled account's session still works"
                time.sleep(0.2)
        refused = web.client().post(
            "/api/admin/login", json={"username": "ann", "password": PASSWORD}
        )
        assert refused.status_code == 401


def test_the_cli_adds_lists_changes_and_disables_accounts(
    web: WebServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", web.db.url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli_main(["users", "add", "carol", "--role", "auditor", "--password-stdin"]) == 0
    assert "added carol (auditor)" in capsys.readouterr().out
    with closing(sign_in(web, "carol")) as carol:
        assert carol.get("/api/admin/me").json()["role"] == "auditor"
        monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))
        assert cli_main(["users", "passwd", "carol", "--password-stdin"]) == 0
        deadline = time.monotonic() + 5
        while carol.get("/api/admin/me").status_code != 401:  # a new password ends sessions
            assert time.monotonic() < deadline
            time.sleep(0.2)
    sign_in(web, "carol", "a brand new password").close()
    assert cli_main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "admin\tadmin\tenabled" in listing and "carol\tauditor\tenabled" in listing
    assert cli_main(["users", "disable", "carol"]) == 0
    assert cli_main(["users", "disable", "carol"]) == 2
    assert "already disabled" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli_main(["users", "add", "Bad Name", "--role", "analyst", "--password-stdin"]) == 2
    assert "account name" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse refuses an unknown role
        cli_main(["users", "add", "dave", "--role", "root", "--password-stdin"])

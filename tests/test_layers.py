"""`domain/` holds the model and the application service only: no database driver, JSON
library, threads or event loop, and nothing from the outer layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parent.parent / "domain"
FORBIDDEN = {"psycopg", "psycopg_pool", "orjson", "threading", "asyncio", "concurrent"}
OUTER = {"adapters", "projections", "apps", "tests"}


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module a source file imports (anywhere in it)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_check_sees_imports_wherever_they_are() -> None:
    source = "import os\nfrom psycopg.sql import SQL\ndef f():\n    import threading as t\n"
    assert imported_modules(source) == {"os", "psycopg", "threading"}


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_imports_no_infrastructure(path: Path) -> None:
    imported = imported_modules(path.read_text())
    assert not imported & FORBIDDEN, f"{path.name} imports {sorted(imported & FORBIDDEN)}"
    assert not imported & OUTER, f"{path.name} imports {sorted(imported & OUTER)}"

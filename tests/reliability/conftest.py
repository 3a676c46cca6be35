"""The web-server fixture is shared with tests/web."""

from tests.web.conftest import web  # noqa: F401

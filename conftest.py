"""Suite-wide fixtures and the CI rule that infrastructure tests may not be skipped."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def missing_infrastructure(reason: str) -> None:
    """Skip locally, fail in CI: a PostgreSQL or browser test that did not run is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true and required infrastructure is missing: {reason}")
    pytest.skip(reason)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return [f"guanxi: database={engine} task_mode={settings.TASK_MODE} ci={IN_CI}"]


def pytest_sessionstart(session: pytest.Session) -> None:
    expected = os.environ.get("GUANXI_EXPECT_DB")
    if expected:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        if expected not in engine:
            raise pytest.UsageError(f"GUANXI_EXPECT_DB={expected} but the engine is {engine}")


@pytest.fixture
def make_team(db: Any) -> Callable[..., Any]:
    from guanxi.accounts.services import team_create

    def make(name: str, parent: Any = None) -> Any:
        return team_create(actor=None, name=name, parent=parent)

    return make


@pytest.fixture
def teams(make_team: Callable[..., Any]) -> dict[str, Any]:
    """hq → sales → {east, north}; hq → service; and an unrelated root, other."""
    hq = make_team("HQ")
    sales = make_team("Sales", hq)
    return {
        "hq": hq,
        "sales": sales,
        "east": make_team("East", sales),
        "north": make_team("North", sales),
        "service": make_team("Service", hq),
        "other": make_team("Other Co"),
    }


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from guanxi.accounts.models import Role
    from guanxi.accounts.services import user_create

    counter = {"n": 0}

    def make(role: str | None = "sales-rep", team: Any = None, **extra: Any) -> Any:
        counter["n"] += 1
        username = extra.pop("username", f"user{counter['n']}")
        return user_create(
            actor=None,
            username=username,
            password=extra.pop("password", "correct-horse-42"),
            role=Role.objects.get(code=role) if role else None,
            team=team,
            **extra,
        )

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., Any], teams: dict[str, Any]) -> Any:
    return make_user("administrator", teams["hq"], username="boss")


@pytest.fixture
def api_token(db: Any) -> Callable[[Any], str]:
    from guanxi.accounts.services import api_token_create

    def make(user: Any) -> str:
        return api_token_create(actor=user, name="test", expires_in_days=30)[1]

    return make


@pytest.fixture
def bearer(api_token: Callable[[Any], str]) -> Callable[[Any], dict[str, str]]:
    """Headers for a Django test client call authenticated by a fresh token of the user."""

    def make(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_token(user)}"}

    return make


@pytest.fixture
def smtp_server(settings: Any) -> Any:
    """A real SMTP server (aiosmtpd) on a free local port; Django sends through it.

    ``smtp_server.messages`` holds each received message as an ``email.message.Message``
    with its envelope in ``X-Envelope-From`` / ``X-Envelope-To`` headers (waiting briefly).
    """
    import logging
    import socket
    import time
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self) -> None:
            self.received: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            message = message_from_bytes(envelope.original_content, policy=policy.default)
            message["X-Envelope-From"] = envelope.mail_from
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self.received.append(message)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # aiosmtpd logs every connection at INFO from its own thread, after pytest may have closed
    # the stream it captured: keep it to warnings.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False

    class Server:
        host = "127.0.0.1"

        def __init__(self) -> None:
            self.port = port

        @property
        def messages(self) -> list[Any]:
            return list(handler.received)

        def wait_for(self, count: int, timeout: float = 5.0) -> list[Any]:
            deadline = time.monotonic() + timeout
            while len(handler.received) < count and time.monotonic() < deadline:
                time.sleep(0.02)
            return list(handler.received)

    try:
        yield Server()
    finally:
        controller.stop()

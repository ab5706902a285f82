from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from guanxi.core import events


@pytest.fixture
def received() -> Any:
    calls: list[tuple[str, dict[str, Any]]] = []

    def on_created(**payload: Any) -> None:
        calls.append(("created", payload))

    def on_any(name: str, **payload: Any) -> None:
        calls.append(("*" + name, payload))

    events.subscribe("thing.created", on_created)
    events.subscribe("*", on_any)
    yield calls
    events.unsubscribe("thing.created", on_created)
    events.unsubscribe("*", on_any)


def test_publish_reaches_named_and_wildcard_subscribers(received: list[Any]) -> None:
    delivered = events.publish("thing.created", thing_id=7)

    assert delivered == 2
    assert received == [("created", {"thing_id": 7}), ("*thing.created", {"thing_id": 7})]


def test_a_failing_subscriber_does_not_stop_the_others(received: list[Any]) -> None:
    def broken(**payload: Any) -> None:
        raise RuntimeError("bug")

    events.subscribe("thing.created", broken)
    try:
        delivered = events.publish("thing.created", thing_id=1)
    finally:
        events.unsubscribe("thing.created", broken)

    assert delivered == 2
    assert [name for name, _ in received] == ["created", "*thing.created"]


@pytest.mark.django_db(transaction=True)
def test_publish_on_commit_waits_for_the_commit_and_drops_on_rollback(received: list[Any]) -> None:
    with transaction.atomic():
        events.publish_on_commit("thing.created", thing_id=1)
        assert received == []

    def fail_after_publishing() -> None:
        with transaction.atomic():
            events.publish_on_commit("thing.created", thing_id=2)
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail_after_publishing()

    assert [payload["thing_id"] for _, payload in received] == [1, 1]

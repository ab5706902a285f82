"""A small in-process domain-event bus: `subscribe` a handler, `publish` a named event.

Events are named `domain.past_tense` ("customer.tier_changed") and carry keyword payloads
of plain values (ids, strings), so that a subscriber may hand them on to a task or a
webhook unchanged. A failing subscriber is logged and does not stop the others or the
publisher: the change that raised the event has already happened.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Handler = Callable[..., None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)
WILDCARD = "*"


def subscribe(name: str, handler: Handler | None = None) -> Any:
    """Register a handler for an event name ("*" for every event); usable as a decorator."""

    def register(func: Handler) -> Handler:
        if func not in _subscribers[name]:
            _subscribers[name].append(func)
        return func

    return register(handler) if handler is not None else register


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _subscribers[name]:
        _subscribers[name].remove(handler)


def publish(name: str, **payload: Any) -> int:
    """Call every subscriber of `name` (and of "*") now; returns how many ran cleanly."""
    delivered = 0
    for handler in [*_subscribers[name], *_subscribers[WILDCARD]]:
        try:
            if handler in _subscribers[WILDCARD]:
                handler(name, **payload)
            else:
                handler(**payload)
        except Exception:  # a subscriber's bug must not undo the publisher's work
            logger.exception("event subscriber %r failed on %s", handler, name)
        else:
            delivered += 1
    return delivered


def publish_on_commit(name: str, **payload: Any) -> None:
    """Publish once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: publish(name, **payload))


def publish_many_on_commit(name: str, payloads: Iterable[dict[str, Any]]) -> None:
    """Publish `name` once per payload, in order, after the current transaction commits:
    one commit hook for a whole batch of rows (what set-based writers use)."""
    batch = list(payloads)

    def deliver() -> None:
        for payload in batch:
            publish(name, **payload)

    if batch:
        transaction.on_commit(deliver)

"""The demo loader: settings and tickets in several states, and a rerun adds nothing."""

from __future__ import annotations

from typing import Any

from guanxi.service import demo
from guanxi.service.models import SlaPolicy, Ticket


def test_the_demo_opens_tickets_once_with_policies_and_clocks(
    agent: Any, agent2: Any, make_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for i in range(4):
        make_customer(f"演示客户 {i}")

    with django_capture_on_commit_callbacks(execute=True):
        first = demo.load()
        second = demo.load()

    assert (first, second) == (["Demo service: 4 tickets."], ["Demo service: tickets exist."])
    assert SlaPolicy.objects.count() == 8
    assert set(Ticket.objects.values_list("status", flat=True)) == {
        "new",
        "open",
        "waiting_customer",
        "resolved",
    }
    assert not Ticket.objects.filter(first_response_due_at__isnull=True).exists()

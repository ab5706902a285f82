from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from guanxi.core.errors import DomainError
from guanxi.core.pagination import BadCursor
from guanxi.customers.models import Customer
from guanxi.interactions.models import Interaction
from guanxi.interactions.selectors import (
    attachment_get,
    interaction_get,
    last_interaction_at,
    timeline,
)

START = timezone.now().replace(microsecond=0) - dt.timedelta(days=60)


def at(hours: int) -> dt.datetime:
    return START + dt.timedelta(hours=hours)


def test_the_timeline_is_newest_first_and_breaks_ties_by_newest_row(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    old = make_interaction(customer, occurred_at=at(1))
    tied_first = make_interaction(customer, occurred_at=at(5))
    tied_second = make_interaction(customer, occurred_at=at(5))
    newest = make_interaction(customer, occurred_at=at(9))

    page = timeline(actor=rep, customer_id=customer.pk)

    assert page.items == [newest, tied_second, tied_first, old]
    assert page.next_cursor is None


def test_keyset_pages_cover_the_timeline_without_gaps_or_repeats(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    made = [make_interaction(customer, occurred_at=at(index // 2)) for index in range(11)]
    expected = sorted(made, key=lambda i: (i.occurred_at, i.pk), reverse=True)

    seen: list[Interaction] = []
    cursor = None
    for _page_number in range(10):
        page = timeline(actor=rep, customer_id=customer.pk, cursor=cursor, limit=3)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == expected


def test_the_timeline_can_show_one_channel(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    make_interaction(customer, channel="phone_call", occurred_at=at(1))
    visit = make_interaction(customer, channel="visit", occurred_at=at(2))
    make_interaction(customer, channel="email", occurred_at=at(3))

    page = timeline(actor=rep, customer_id=customer.pk, channel="visit")

    assert page.items == [visit]


def test_an_unknown_channel_filter_is_refused(rep: Any, customer: Any) -> None:
    with pytest.raises(DomainError) as refused:
        timeline(actor=rep, customer_id=customer.pk, channel="pigeon")

    assert refused.value.field == "channel"


def test_a_forged_cursor_is_refused(rep: Any, customer: Any) -> None:
    with pytest.raises(BadCursor):
        timeline(actor=rep, customer_id=customer.pk, cursor="not-a-cursor")


def test_the_timeline_shows_only_that_customers_interactions(
    rep: Any,
    customer: Any,
    make_customer: Callable[..., Any],
    make_interaction: Callable[..., Interaction],
) -> None:
    mine = make_interaction(customer)
    make_interaction(make_customer(rep))

    page = timeline(actor=rep, customer_id=customer.pk)

    assert page.items == [mine]


@pytest.mark.parametrize(
    ("role", "team"),
    [
        ("service-agent", "east"),  # the owner's team
        ("sales-manager", "sales"),  # the owner's team is a sub-team
        ("analyst", "hq"),  # everything
    ],
)
def test_readers_whose_scope_holds_the_customer_see_its_timeline(
    make_user: Any,
    teams: dict[str, Any],
    customer: Any,
    make_interaction: Callable[..., Interaction],
    role: str,
    team: str,
) -> None:
    interaction = make_interaction(customer)

    page = timeline(actor=make_user(role, teams[team]), customer_id=customer.pk)

    assert page.items == [interaction]


@pytest.mark.parametrize(
    ("role", "team"),
    [
        ("sales-rep", "east"),  # a teammate, but reps see their own customers only
        ("sales-rep", "north"),
        ("service-agent", "north"),
        ("sales-manager", "service"),
    ],
)
def test_readers_whose_scope_lacks_the_customer_get_not_found(
    make_user: Any,
    teams: dict[str, Any],
    customer: Any,
    make_interaction: Callable[..., Interaction],
    role: str,
    team: str,
) -> None:
    make_interaction(customer)

    with pytest.raises(Http404):
        timeline(actor=make_user(role, teams[team]), customer_id=customer.pk)


def test_a_role_without_interactions_view_may_not_open_timelines(
    make_user: Any, teams: dict[str, Any], customer: Any
) -> None:
    marketer = make_user("marketer", teams["hq"])

    with pytest.raises(PermissionDenied):
        timeline(actor=marketer, customer_id=customer.pk)


def test_a_foreign_customers_timeline_is_not_found(rep: Any, foreign_customer: Any) -> None:
    with pytest.raises(Http404):
        timeline(actor=rep, customer_id=foreign_customer.pk)


def test_one_interaction_is_found_in_scope(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer)

    assert interaction_get(actor=rep, pk=interaction.pk) == interaction


def test_a_foreign_interaction_is_not_found(
    other_rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer)

    with pytest.raises(Http404):
        interaction_get(actor=other_rep, pk=interaction.pk)


def test_a_foreign_attachment_is_not_found(other_rep: Any, rep: Any, customer: Any) -> None:
    from guanxi.interactions.services import interaction_log
    from guanxi.interactions.tests.factories import PDF, upload

    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={"channel": "note", "summary": "x"},
        files=[upload("a.pdf", PDF)],
    )
    attachment = interaction.attachments.get()

    with pytest.raises(Http404):
        attachment_get(actor=other_rep, pk=attachment.pk)


def test_last_interaction_at_reads_the_newest_per_customer_in_one_query(
    rep: Any,
    make_customer: Callable[..., Any],
    make_interaction: Callable[..., Interaction],
    django_assert_num_queries: Any,
) -> None:
    first, second, silent = (make_customer(rep) for _ in range(3))
    make_interaction(first, occurred_at=at(1))
    make_interaction(first, occurred_at=at(7))
    make_interaction(second, occurred_at=at(3))

    with django_assert_num_queries(1):
        result = last_interaction_at([first.pk, second.pk, silent.pk])

    assert result == {first.pk: at(7), second.pk: at(3)}


def test_last_interaction_at_accepts_a_queryset_of_customers(
    rep: Any,
    make_customer: Callable[..., Any],
    make_interaction: Callable[..., Interaction],
    django_assert_num_queries: Any,
) -> None:
    first, second = make_customer(rep), make_customer(rep)
    make_interaction(first, occurred_at=at(2))
    make_interaction(second, occurred_at=at(4))

    with django_assert_num_queries(1):
        result = last_interaction_at(Customer.objects.filter(pk=second.pk))

    assert result == {second.pk: at(4)}

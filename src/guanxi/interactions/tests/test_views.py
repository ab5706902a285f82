from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.customers.services import contact_create
from guanxi.interactions.models import Attachment, Interaction
from guanxi.interactions.services import interaction_log
from guanxi.interactions.tests.factories import EXE, PDF, upload
from guanxi.interactions.views import PAGE_SIZE

TIMELINE_QUERIES = 6  # session, user, role, customer, interactions, their attachments


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-interaction="(\d+)"', html)]


def quick_log(**overrides: Any) -> dict[str, Any]:
    local = timezone.localtime() - dt.timedelta(hours=1)
    return {
        "channel": "phone_call",
        "direction": "outbound",
        "occurred_at": local.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "15",
        "summary": "电话跟进报价",
        "outcome": "客户考虑中",
        "next_step": "下周再联系",
        "next_step_date": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
        **overrides,
    }


def test_the_fragment_lists_interactions_newest_first_without_the_page_shell(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    base = timezone.now() - dt.timedelta(days=3)
    older = make_interaction(customer, occurred_at=base, outcome="有意向")
    newer = make_interaction(
        customer, channel="visit", occurred_at=base + dt.timedelta(hours=5), next_step="签合同"
    )

    response = client_for(rep).get(reverse("interactions:timeline", args=[customer.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert shown_ids(html) == [newer.pk, older.pk]
    assert "<html" not in html
    assert "bi-geo-alt" in html
    assert "有意向" in html
    assert "签合同" in html
    assert 'hx-encoding="multipart/form-data"' in html
    assert 'type="datetime-local"' in html


def test_an_empty_timeline_says_so(rep: Any, customer: Any) -> None:
    html = client_for(rep).get(reverse("interactions:timeline", args=[customer.pk])).content

    assert b"data-empty" in html
    assert b"No interactions yet." in html


def test_a_long_timeline_ends_with_a_revealed_trigger_that_loads_the_rest(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    base = timezone.now() - dt.timedelta(days=40)
    made = [
        make_interaction(customer, occurred_at=base + dt.timedelta(hours=index))
        for index in range(PAGE_SIZE + 3)
    ]
    client = client_for(rep)

    first = client.get(reverse("interactions:timeline", args=[customer.pk])).content.decode()
    more_url = re.search(r'hx-get="([^"]+cursor=[^"]+)" hx-trigger="revealed"', first)
    assert more_url is not None
    rest = client.get(more_url.group(1).replace("&amp;", "&")).content.decode()

    assert shown_ids(first) + shown_ids(rest) == [i.pk for i in reversed(made)]
    assert "quick-log" not in rest
    assert "revealed" not in rest


def test_a_forged_cursor_ends_the_list_instead_of_repeating_it(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    make_interaction(customer)

    response = client_for(rep).get(
        reverse("interactions:timeline", args=[customer.pk]) + "?cursor=garbage"
    )

    assert response.status_code == 200
    assert shown_ids(response.content.decode()) == []


def test_the_fragment_filters_by_channel(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    make_interaction(customer, channel="email")
    visit = make_interaction(customer, channel="visit")

    html = client_for(rep).get(
        reverse("interactions:timeline", args=[customer.pk]) + "?channel=visit"
    )

    assert shown_ids(html.content.decode()) == [visit.pk]


def test_a_foreign_customers_timeline_is_404(rep: Any, foreign_customer: Any) -> None:
    response = client_for(rep).get(reverse("interactions:timeline", args=[foreign_customer.pk]))

    assert response.status_code == 404


def test_the_fragment_runs_a_fixed_number_of_queries_however_many_rows(
    rep: Any,
    customer: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(rep)
    url = reverse("interactions:timeline", args=[customer.pk])
    contact = contact_create(actor=rep, customer=customer, values={"name": "陈经理"})
    for index in range(PAGE_SIZE):
        interaction_log(
            actor=rep,
            customer=customer,
            values={
                "channel": "meeting",
                "summary": f"会议 {index}",
                "contact_id": contact.pk,
                "duration_seconds": 600,
            },
            files=[upload(f"minutes-{index}.pdf", PDF), upload(f"agenda-{index}.pdf", PDF)],
        )

    with django_assert_max_num_queries(TIMELINE_QUERIES):
        response = client.get(url)

    assert len(shown_ids(response.content.decode())) == PAGE_SIZE
    assert response.content.decode().count("data-attachment=") == 2 * PAGE_SIZE


def test_quick_log_creates_the_interaction_and_asks_for_a_success_toast(
    rep: Any, customer: Any
) -> None:
    response = client_for(rep).post(
        reverse("interactions:log", args=[customer.pk]),
        data=quick_log(attachments=[upload("纪要.pdf", PDF)]),
        headers={"HX-Request": "true"},
    )

    stored = Interaction.objects.get()
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {
        "toast": {"text": "Interaction logged.", "level": "success"}
    }
    assert shown_ids(response.content.decode()) == [stored.pk]
    assert (stored.channel, stored.duration_seconds, stored.owner) == ("phone_call", 900, rep)
    assert list(stored.attachments.values_list("original_name", flat=True)) == ["纪要.pdf"]


def test_quick_log_shows_refusals_on_the_form_with_status_200_and_writes_nothing(
    rep: Any, customer: Any
) -> None:
    response = client_for(rep).post(
        reverse("interactions:log", args=[customer.pk]),
        data=quick_log(channel="email", attachments=[upload("invoice.pdf", EXE)]),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert 'data-field-error="duration_minutes"' in html
    assert 'data-field-error="attachments"' in html
    assert 'value="电话跟进报价"' in html
    assert not Interaction.objects.exists()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("missing", ["summary", "occurred_at", "channel"])
def test_quick_log_requires_the_basic_fields(rep: Any, customer: Any, missing: str) -> None:
    response = client_for(rep).post(
        reverse("interactions:log", args=[customer.pk]), data=quick_log(**{missing: ""})
    )

    assert response.status_code == 200
    assert f'data-field-error="{missing}"' in response.content.decode()
    assert not Interaction.objects.exists()


def test_quick_log_on_a_foreign_customer_is_404(rep: Any, foreign_customer: Any) -> None:
    response = client_for(rep).post(
        reverse("interactions:log", args=[foreign_customer.pk]), data=quick_log()
    )

    assert response.status_code == 404
    assert not Interaction.objects.exists()


def test_an_attachment_downloads_under_its_name_for_those_in_scope_only(
    rep: Any, other_rep: Any, customer: Any
) -> None:
    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={"channel": "email", "summary": "合同"},
        files=[upload("合同.pdf", PDF)],
    )
    url = reverse("interactions:attachment", args=[interaction.attachments.get().pk])

    mine = client_for(rep).get(url)
    foreign = client_for(other_rep).get(url)

    assert b"".join(mine.streaming_content) == PDF
    assert mine["Content-Disposition"].startswith("attachment;")
    assert mine["X-Content-Type-Options"] == "nosniff"
    assert foreign.status_code == 404


def test_the_customer_page_loads_the_timeline(rep: Any, customer: Any) -> None:
    html = client_for(rep).get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert f'hx-get="{reverse("interactions:timeline", args=[customer.pk])}"' in html

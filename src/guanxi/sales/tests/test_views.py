"""The sales pages: the board and its drag-and-drop move, the list, the deal page with a
logged call, reports, pipeline administration and the customer 360 panel."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from guanxi.interactions.models import Interaction
from guanxi.sales.models import Stage

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "board"}


def test_the_board_shows_each_stage_with_its_deals(
    login: Callable[..., Client], rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    make_deal(rep, customer, name="云平台采购", amount=Decimal("12000"))

    response = login(rep).get("/sales/")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("data-stage-drop=") == 5
    assert "云平台采购" in body
    assert 'draggable="true"' in body


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en", ["1,234,567.50", "Warm", "rep.east · 06/30/2030"]),
        ("zh-hans", ["1234567.50", "温", "rep.east · 2030年6月30日"]),
    ],
)
def test_a_board_card_shows_customer_amount_heat_owner_and_close_date_in_the_language(
    login: Callable[..., Client],
    rep: Any,
    customer: Any,
    make_deal: Callable[..., Any],
    language: str,
    shown: list[str],
) -> None:
    deal = make_deal(
        rep,
        customer,
        name="云平台采购",
        amount=Decimal("1234567.5"),
        heat="warm",
        expected_close=dt.date(2030, 6, 30),
    )

    response = login(rep).get("/sales/", headers={"Accept-Language": language})

    card = response.content.decode().split(f'data-deal-card="{deal.pk}"', 1)[1]
    card = card.split("</article>", 1)[0]
    texts = [text.strip() for text in re.findall(r">([^<]+)<", card) if text.strip()]
    assert texts == ["云平台采购", "华星科技", *shown]
    assert f'data-move-url="/sales/opportunities/{deal.pk}/move/"' in card
    assert f'href="/sales/opportunities/{deal.pk}/"' in card
    assert 'class="badge text-bg-warning"' in card


def test_the_board_reads_its_cards_in_a_fixed_number_of_queries(
    login: Callable[..., Client],
    rep: Any,
    make_customer: Callable[..., Any],
    make_deal: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    for index in range(12):
        make_deal(rep, make_customer(rep), name=f"Deal {index}")
    client = login(rep)

    with django_assert_max_num_queries(9):
        response = client.get("/sales/")

    assert response.content.decode().count("data-deal-card=") == 12


def test_dropping_a_card_moves_the_deal_and_answers_the_board(
    login: Callable[..., Client],
    rep: Any,
    customer: Any,
    contact: Any,
    stages: list[Stage],
    make_deal: Callable[..., Any],
) -> None:
    deal = make_deal(rep, customer, contact=contact)

    response = login(rep).post(
        f"/sales/opportunities/{deal.pk}/move/",
        {"stage": stages[1].pk, "version": 1},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "board-error" not in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stages[1]


def test_dropping_a_card_on_a_stage_with_missing_fields_is_refused_with_the_reason(
    login: Callable[..., Client],
    rep: Any,
    customer: Any,
    stages: list[Stage],
    make_deal: Callable[..., Any],
) -> None:
    deal = make_deal(rep, customer)

    response = login(rep).post(
        f"/sales/opportunities/{deal.pk}/move/", {"stage": stages[2].pk}, headers=HTMX
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="board-error"' in body
    assert "contact" in body
    deal.refresh_from_db()
    assert deal.stage == stages[0]


def test_a_user_who_may_not_edit_the_deal_cannot_drop_its_card(
    login: Callable[..., Client],
    rep: Any,
    analyst: Any,
    customer: Any,
    stages: list[Stage],
    make_deal: Callable[..., Any],
) -> None:
    deal = make_deal(rep, customer)

    response = login(analyst).post(
        f"/sales/opportunities/{deal.pk}/move/", {"stage": stages[1].pk}, headers=HTMX
    )

    assert response.status_code == 403
    assert 'draggable="true"' not in response.content.decode()
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (stages[0], 1)


@pytest.mark.parametrize("url", ["/sales/opportunities/{pk}/", "/sales/opportunities/{pk}/move/"])
def test_another_reps_deal_is_not_found_in_the_pages(
    login: Callable[..., Client],
    rep: Any,
    other_rep: Any,
    customer: Any,
    stages: list[Stage],
    make_deal: Callable[..., Any],
    url: str,
) -> None:
    deal = make_deal(rep, customer)
    client = login(other_rep)

    if url.endswith("move/"):
        response = client.post(url.format(pk=deal.pk), {"stage": stages[1].pk}, headers=HTMX)
    else:
        response = client.get(url.format(pk=deal.pk))

    assert response.status_code == 404


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(
    login: Callable[..., Client],
    rep: Any,
    customer: Any,
    make_deal: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    for index in range(12):
        make_deal(rep, customer, name=f"Deal {index}")
    client = login(rep)

    with django_assert_max_num_queries(8):
        response = client.get("/sales/opportunities/?sort=-amount")

    assert response.content.decode().count("data-deal=") == 12


def test_logging_a_call_from_the_deal_adds_it_to_the_customers_timeline(
    login: Callable[..., Client], rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    deal = make_deal(rep, customer, name="ERP")

    response = login(rep).post(
        f"/sales/opportunities/{deal.pk}/log/", {"channel": "call", "summary": "报价确认"}
    )

    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.customer_id, interaction.channel) == (customer.pk, "phone_call")
    assert "报价确认" in interaction.summary


def test_the_deal_page_shows_the_stage_path_and_history(
    login: Callable[..., Client], rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    deal = make_deal(rep, customer, name="ERP")

    response = login(rep).get(f"/sales/opportunities/{deal.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'aria-current="step"' in body
    assert 'id="deal-history"' in body


def test_a_stale_edit_from_the_page_is_refused(
    login: Callable[..., Client], rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    deal = make_deal(rep, customer, name="ERP")
    client = login(rep)
    form = {"name": "ERP", "amount": "10", "heat": "hot", "forecast_category": "pipeline"}
    client.post(f"/sales/opportunities/{deal.pk}/edit/", {**form, "version": 1})

    response = client.post(
        f"/sales/opportunities/{deal.pk}/edit/", {**form, "amount": "99", "version": 1}
    )

    assert response.status_code == 400
    deal.refresh_from_db()
    assert deal.amount == Decimal("10.00")


def test_the_reports_page_shows_the_funnel_and_forecast(
    login: Callable[..., Client], manager: Any, rep: Any, customer: Any, make_deal: Any
) -> None:
    make_deal(rep, customer)

    response = login(manager).get("/sales/reports/")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="funnel"' in body
    assert 'data-chart="forecast"' in body


def test_only_a_sales_administrator_edits_pipelines(
    login: Callable[..., Client], manager: Any, admin_user: Any, pipeline: Any
) -> None:
    refused = login(manager).get("/sales/pipelines/")
    admin = login(admin_user)

    response = admin.post(
        f"/sales/pipelines/{pipeline.pk}/",
        {
            "stage": "",
            "name": "Trial",
            "name_zh": "试用",
            "probability": 60,
            "required_fields": ["lines"],
        },
    )

    assert (refused.status_code, response.status_code) == (403, 302)
    added = pipeline.stages.get(name="Trial")
    assert (added.order, added.required_fields) == (6, ["lines"])


def test_the_customer_panel_lists_the_customers_deals(
    login: Callable[..., Client], rep: Any, customer: Any, make_deal: Callable[..., Any]
) -> None:
    make_deal(rep, customer, name="年度框架协议")

    response = login(rep).get(f"/sales/customers/{customer.pk}/opportunities/")

    assert "年度框架协议" in response.content.decode()


def test_the_customer_360_page_loads_the_opportunities_panel(
    login: Callable[..., Client], rep: Any, customer: Any
) -> None:
    response = login(rep).get(f"/customers/{customer.pk}/")

    assert f'hx-get="/sales/customers/{customer.pk}/opportunities/"' in response.content.decode()

"""The sales API: create, scope, move, stale edits, reports, through HTTP with a token."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from guanxi.sales.models import Opportunity

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_a_rep_opens_a_deal_through_the_api(
    client: Client, rep: Any, customer: Any, bearer: Callable[..., Any], stages: list[Any]
) -> None:
    response = _post(
        client,
        "/api/v1/opportunities",
        {"customer_id": customer.pk, "name": "CRM 升级", "amount": "88000.50"},
        bearer(rep),
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["amount"], body["stage"]["id"], body["owner"]["id"], body["version"]) == (
        "88000.50",
        stages[0].pk,
        rep.pk,
        1,
    )


def test_a_negative_amount_is_a_problem_naming_the_field(
    client: Client, rep: Any, customer: Any, bearer: Callable[..., Any]
) -> None:
    response = _post(
        client,
        "/api/v1/opportunities",
        {"customer_id": customer.pk, "name": "CRM", "amount": "-5"},
        bearer(rep),
    )

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["amount"]
    assert Opportunity.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "move"])
def test_another_reps_deal_is_not_found(
    client: Client,
    rep: Any,
    other_rep: Any,
    customer: Any,
    stages: list[Any],
    make_deal: Callable[..., Any],
    bearer: Callable[..., Any],
    method: str,
) -> None:
    deal = make_deal(rep, customer)

    if method == "get":
        response = client.get(f"/api/v1/opportunities/{deal.pk}", headers=bearer(other_rep))
    else:
        response = _post(
            client,
            f"/api/v1/opportunities/{deal.pk}/move",
            {"stage_id": stages[0].pk},
            bearer(other_rep),
        )

    assert response.status_code == 404


def test_the_manager_sees_the_deals_of_the_sub_teams(
    client: Client,
    rep: Any,
    manager: Any,
    customer: Any,
    make_deal: Callable[..., Any],
    bearer: Callable[..., Any],
) -> None:
    deal = make_deal(rep, customer)

    response = client.get("/api/v1/opportunities", headers=bearer(manager))

    assert [item["id"] for item in response.json()["items"]] == [deal.pk]


def test_moving_without_the_required_fields_answers_400_and_changes_nothing(
    client: Client,
    rep: Any,
    customer: Any,
    stages: list[Any],
    make_deal: Callable[..., Any],
    bearer: Callable[..., Any],
) -> None:
    deal = make_deal(rep, customer)

    response = _post(
        client,
        f"/api/v1/opportunities/{deal.pk}/move",
        {"stage_id": stages[3].pk, "version": 1},
        bearer(rep),
    )

    assert response.status_code == 400
    assert sorted(e["field"] for e in response.json()["errors"]) == ["contact", "expected_close"]
    deal.refresh_from_db()
    assert deal.stage_id == stages[0].pk


def test_a_stale_patch_answers_409(
    client: Client, rep: Any, customer: Any, make_deal: Callable[..., Any], bearer: Any
) -> None:
    deal = make_deal(rep, customer)
    headers = bearer(rep)
    first = client.patch(
        f"/api/v1/opportunities/{deal.pk}",
        json.dumps({"version": 1, "amount": "2000"}),
        content_type="application/json",
        headers=headers,
    )

    second = client.patch(
        f"/api/v1/opportunities/{deal.pk}",
        json.dumps({"version": 1, "amount": "3000"}),
        content_type="application/json",
        headers=headers,
    )

    assert (first.status_code, second.status_code) == (200, 409)
    deal.refresh_from_db()
    assert deal.amount == Decimal("2000.00")


def test_pipelines_are_listed_with_their_stages(
    client: Client, rep: Any, pipeline: Any, bearer: Callable[..., Any]
) -> None:
    response = client.get("/api/v1/pipelines", headers=bearer(rep))

    pipeline = response.json()[0]
    assert [s["probability"] for s in pipeline["stages"]] == [10, 25, 50, 75, 90]
    assert pipeline["is_default"] is True


def test_a_rep_may_not_add_a_stage(
    client: Client, rep: Any, pipeline: Any, bearer: Callable[..., Any]
) -> None:
    response = _post(
        client, f"/api/v1/pipelines/{pipeline.pk}/stages", {"name": "Extra"}, bearer(rep)
    )

    assert response.status_code == 403
    assert pipeline.stages.count() == 5


def test_the_schema_lists_the_sales_endpoints(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {
        "/api/v1/opportunities",
        "/api/v1/pipelines",
        "/api/v1/sales/forecast",
        "/api/v1/opportunities/{opportunity_id}/move",
    } <= set(paths)


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [("rep", True), ("other_rep", False), ("manager", True), ("outsider", False)],
)
def test_a_deal_is_visible_only_within_the_viewers_data_scope(
    client: Client,
    rep: Any,
    customer: Any,
    make_deal: Callable[..., Any],
    make_user: Callable[..., Any],
    teams: dict[str, Any],
    request: pytest.FixtureRequest,
    bearer: Callable[..., Any],
    viewer: str,
    sees: bool,
) -> None:
    deal = make_deal(rep, customer)
    actor = (
        make_user("sales-manager", teams["other"], username="manager.other")
        if viewer == "outsider"
        else request.getfixturevalue(viewer)
    )

    response = client.get(f"/api/v1/opportunities/{deal.pk}", headers=bearer(actor))

    assert response.status_code == (200 if sees else 404)

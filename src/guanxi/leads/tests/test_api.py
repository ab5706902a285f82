"""The leads API: entry with an Idempotency-Key, scope, masking, conversion and the pool."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from guanxi.customers.models import Customer
from guanxi.customers.services import customer_assign
from guanxi.leads.models import Lead, PoolPolicy

Bearer = Callable[[Any], dict[str, str]]


def _post(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_a_lead_sent_twice_with_one_idempotency_key_is_created_once(
    client: Client, rep: Any, bearer: Bearer
) -> None:
    headers = {**bearer(rep), "Idempotency-Key": "lead-42"}
    body = {"name": "周杰", "company": "星河科技", "phone": "13812345678"}

    first = _post(client, "/api/v1/leads", body, headers)
    second = _post(client, "/api/v1/leads", body, headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert Lead.objects.count() == 1
    assert first.json()["phone"] == "138****5678"
    assert first.json()["source"] == "api"


def test_bad_input_names_the_field_and_stores_nothing(
    client: Client, rep: Any, bearer: Bearer
) -> None:
    response = _post(client, "/api/v1/leads", {"name": "A", "phone": "12"}, bearer(rep))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "phone"
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("viewer", "status"),
    [("rep", 200), ("teammate", 404), ("manager", 200), ("outsider", 404)],
)
def test_a_lead_is_readable_within_the_data_scope_only(
    viewer: str, status: int, client: Client, rep: Any, make_lead: Any, bearer: Bearer, request: Any
) -> None:
    lead = make_lead(rep)

    response = client.get(
        f"/api/v1/leads/{lead.pk}", headers=bearer(request.getfixturevalue(viewer))
    )

    assert response.status_code == status


def test_a_manager_sees_a_reps_lead_with_the_phone_masked(
    client: Client, rep: Any, manager: Any, make_lead: Any, bearer: Bearer
) -> None:
    lead = make_lead(rep, phone="13812345678", email="ann@example.com")

    body = client.get(f"/api/v1/leads/{lead.pk}", headers=bearer(manager)).json()

    assert (body["phone"], body["email"]) == ("138****5678", "a***@example.com")


def test_the_list_is_filtered_and_paged_with_a_cursor(
    client: Client, rep: Any, make_lead: Any, bearer: Bearer
) -> None:
    leads = [make_lead(rep, f"L{i}") for i in range(3)]
    headers = bearer(rep)

    first = client.get("/api/v1/leads?limit=2", headers=headers).json()
    second = client.get(
        f"/api/v1/leads?limit=2&cursor={first['next_cursor']}", headers=headers
    ).json()

    assert [item["id"] for item in first["items"]] == [leads[2].pk, leads[1].pk]
    assert [item["id"] for item in second["items"]] == [leads[0].pk]
    assert second["next_cursor"] is None


def test_the_list_reads_a_fixed_number_of_queries(
    client: Client, rep: Any, make_lead: Any, bearer: Bearer, django_assert_num_queries: Any
) -> None:
    for i in range(5):
        make_lead(rep, f"L{i}", phone="13812345678")
    headers = bearer(rep)

    with django_assert_num_queries(3):
        response = client.get("/api/v1/leads", headers=headers)

    assert len(response.json()["items"]) == 5


def test_a_lead_is_converted_through_the_api(
    client: Client, rep: Any, make_lead: Any, bearer: Bearer
) -> None:
    lead = make_lead(rep, "周杰", company="星河科技")

    response = _post(
        client,
        f"/api/v1/leads/{lead.pk}/convert",
        {"version": lead.version, "create_opportunity": False},
        bearer(rep),
    )

    assert response.status_code == 200
    assert response.json()["status"] == "converted"
    assert Customer.objects.get(pk=response.json()["customer_id"]).name == "星河科技"


def test_a_negative_amount_on_conversion_is_refused(
    client: Client, rep: Any, make_lead: Any, bearer: Bearer
) -> None:
    lead = make_lead(rep, "周杰", company="星河科技")

    response = _post(client, f"/api/v1/leads/{lead.pk}/convert", {"amount": "-5"}, bearer(rep))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "amount"
    assert not Customer.objects.exists()


def test_behaviour_recorded_through_the_api_raises_the_score(
    client: Client, rep: Any, make_lead: Any, bearer: Bearer
) -> None:
    from guanxi.leads.scoring import scoring_rules_seed

    scoring_rules_seed()
    lead = make_lead(rep)

    response = _post(client, f"/api/v1/leads/{lead.pk}/events", {"kind": "replied"}, bearer(rep))

    assert response.status_code == 201
    assert client.get(f"/api/v1/leads/{lead.pk}", headers=bearer(rep)).json()["score"] == 15


def test_claims_over_the_daily_quota_answer_409(
    client: Client, rep: Any, make_customer: Any, bearer: Bearer, teams: dict[str, Any]
) -> None:
    PoolPolicy.objects.create(team=teams["east"], daily_claim_quota=1)
    customers = [make_customer(rep, f"客户{i}") for i in range(2)]
    customer_assign(
        actor=None, customers=Customer.objects.filter(pk__in=[c.pk for c in customers]), owner=None
    )
    headers = bearer(rep)

    first = client.post(f"/api/v1/pool/customers/{customers[0].pk}/claim", headers=headers)
    second = client.post(f"/api/v1/pool/customers/{customers[1].pk}/claim", headers=headers)

    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json()["errors"][0]["field"] == "quota"
    assert Customer.objects.get(pk=customers[1].pk).owner is None


def test_the_pool_list_masks_phones(
    client: Client, rep: Any, make_customer: Any, bearer: Bearer
) -> None:
    customer = make_customer(rep, "王芳", phone="13812345678")
    customer_assign(actor=None, customers=Customer.objects.filter(pk=customer.pk), owner=None)

    body = client.get("/api/v1/pool/customers", headers=bearer(rep)).json()

    assert [(item["id"], item["phone"]) for item in body["items"]] == [(customer.pk, "138****5678")]


def test_the_model_is_not_offered_without_enough_history(
    client: Client, rep: Any, bearer: Bearer
) -> None:
    body = client.get("/api/v1/lead-model", headers=bearer(rep)).json()

    assert (body["offered"], body["active"], body["minimum"]) == (False, False, 50)


def test_revealing_a_phone_returns_it_in_full_and_writes_the_access_log(
    client: Client, rep: Any, make_lead: Any, bearer: Bearer
) -> None:
    from guanxi.audit.models import AccessLog

    lead = make_lead(rep, phone="13812345678")

    response = _post(client, f"/api/v1/leads/{lead.pk}/reveal", {"field": "phone"}, bearer(rep))

    assert response.json() == {"field": "phone", "value": "+8613812345678"}
    assert list(AccessLog.objects.values_list("target_model", "target_pk", "field")) == [
        ("leads.lead", str(lead.pk), "phone")
    ]

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanxi.customers.models import ConsentRecord, Customer, CustomerTag
from guanxi.customers.services import customer_create

VALID_ID = "11010519491231002X"


def _post(url: str, data: Any, headers: dict[str, str]) -> Any:
    return Client().post(url, data=data, content_type="application/json", headers=headers)


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


def test_creating_a_customer_returns_it_with_masked_personal_data(rep: Any, bearer: Any) -> None:
    response = _post(
        "/api/v1/customers",
        {
            "kind": "person",
            "name": "张三",
            "phone": "13812345678",
            "email": "zhang@example.com",
            "id_number": VALID_ID,
        },
        bearer(rep),
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["phone"], body["email"], body["id_number"]) == (
        "138****5678",
        "z***@example.com",
        "1101**********002X",
    )
    assert body["owner"]["id"] == rep.pk


def test_an_idempotency_key_makes_a_retry_create_nothing_new(rep: Any, bearer: Any) -> None:
    headers = {**bearer(rep), "Idempotency-Key": "order-7-customer"}
    payload = {"kind": "person", "name": "李四"}

    first = _post("/api/v1/customers", payload, headers)
    second = _post("/api/v1/customers", payload, headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert Customer.objects.count() == 1


def test_a_reused_idempotency_key_with_other_data_is_refused(rep: Any, bearer: Any) -> None:
    headers = {**bearer(rep), "Idempotency-Key": "k1"}
    _post("/api/v1/customers", {"kind": "person", "name": "李四"}, headers)

    response = _post("/api/v1/customers", {"kind": "person", "name": "王五"}, headers)

    assert response.status_code == 409
    assert list(Customer.objects.values_list("name", flat=True)) == ["李四"]


def test_bad_input_names_every_bad_field_and_creates_nothing(rep: Any, bearer: Any) -> None:
    response = _post(
        "/api/v1/customers",
        {
            "kind": "person",
            "name": "x",
            "phone": "123",
            "id_number": "110105194912310021",
        },
        bearer(rep),
    )

    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"phone", "id_number"}
    assert not Customer.objects.exists()


def test_a_duplicate_answers_409_with_the_existing_ids(rep: Any, bearer: Any) -> None:
    first = customer_create(
        actor=rep, values={"kind": "person", "name": "甲", "phone": "13812345678"}
    )

    response = _post(
        "/api/v1/customers", {"kind": "person", "name": "乙", "phone": "13812345678"}, bearer(rep)
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["ids"] == [first.pk]


@pytest.mark.parametrize(
    ("role", "team", "visible"),
    [
        ("sales-rep", "east", False),
        ("sales-manager", "sales", True),
        ("sales-manager", "service", False),
        ("service-agent", "east", True),
        ("marketer", "other", True),
        ("administrator", "other", True),
    ],
)
def test_reading_a_customer_follows_the_data_scope(
    make_user: Any, teams: dict[str, Any], bearer: Any, role: str, team: str, visible: bool
) -> None:
    owner = make_user("sales-rep", teams["east"])
    customer = customer_create(actor=owner, values={"kind": "person", "name": "甲"})
    reader = make_user(role, teams[team])

    response = Client().get(f"/api/v1/customers/{customer.pk}", headers=bearer(reader))

    assert response.status_code == (200 if visible else 404)


def test_the_list_is_scoped_filtered_and_paged(
    make_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    rep = make_user("sales-rep", teams["east"])
    other = make_user("sales-rep", teams["north"])
    mine = [
        customer_create(actor=rep, values={"kind": "person", "name": f"客户{i}", "city": "上海"})
        for i in range(5)
    ]
    customer_create(actor=rep, values={"kind": "person", "name": "北京客户", "city": "北京"})
    customer_create(actor=other, values={"kind": "person", "name": "别人的", "city": "上海"})
    headers = bearer(rep)

    first = Client().get("/api/v1/customers?city=上海&limit=3", headers=headers).json()
    second = (
        Client()
        .get(f"/api/v1/customers?city=上海&limit=3&cursor={first['next_cursor']}", headers=headers)
        .json()
    )

    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == [c.pk for c in reversed(mine)]
    assert second["next_cursor"] is None


def test_a_stale_patch_answers_409(rep: Any, bearer: Any) -> None:
    customer = customer_create(actor=rep, values={"kind": "person", "name": "原"})
    headers = bearer(rep)
    Client().patch(
        f"/api/v1/customers/{customer.pk}",
        data={"version": 1, "name": "一"},
        content_type="application/json",
        headers=headers,
    )

    response = Client().patch(
        f"/api/v1/customers/{customer.pk}",
        data={"version": 1, "name": "二"},
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 409
    assert Customer.objects.get(pk=customer.pk).name == "一"


def test_reveal_returns_the_plain_value_and_writes_the_access_log(rep: Any, bearer: Any) -> None:
    from guanxi.audit.models import AccessLog

    customer = customer_create(
        actor=rep, values={"kind": "person", "name": "甲", "phone": "13812345678"}
    )

    response = _post(f"/api/v1/customers/{customer.pk}/reveal", {"field": "phone"}, bearer(rep))

    assert response.json() == {"field": "phone", "value": "+8613812345678"}
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.target_pk, log.field) == (
        rep,
        "reveal",
        str(customer.pk),
        "phone",
    )


def test_reveal_is_refused_without_the_permission(
    make_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    from guanxi.audit.models import AccessLog

    owner = make_user("sales-rep", teams["east"])
    customer = customer_create(
        actor=owner, values={"kind": "person", "name": "甲", "phone": "13812345678"}
    )
    marketer = make_user("marketer", teams["other"])

    response = _post(
        f"/api/v1/customers/{customer.pk}/reveal", {"field": "phone"}, bearer(marketer)
    )

    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_contacts_are_added_with_several_phones(rep: Any, bearer: Any) -> None:
    company = customer_create(actor=rep, values={"kind": "enterprise", "name": "某公司"})

    response = _post(
        f"/api/v1/customers/{company.pk}/contacts",
        {
            "name": "王经理",
            "title": "采购总监",
            "buying_role": "decision_maker",
            "phones": ["13700001111", "010-62345678"],
            "emails": ["wang@example.com"],
        },
        bearer(rep),
    )

    body = response.json()
    assert response.status_code == 201
    assert body["is_primary"] is True
    assert [m["value"] for m in body["methods"]] == [
        "w***@example.com",
        "137****1111",
        "106****5678",
    ]


def test_consent_is_recorded_and_the_newest_record_wins(rep: Any, bearer: Any) -> None:
    from guanxi.customers.selectors import consent_allows

    customer = customer_create(actor=rep, values={"kind": "person", "name": "甲"})
    headers = bearer(rep)
    url = f"/api/v1/customers/{customer.pk}/consents"
    _post(
        url,
        {
            "purpose": "marketing_email",
            "granted": True,
            "channel": "web",
            "wording": "同意接收营销邮件",
        },
        headers,
    )

    _post(
        url,
        {"purpose": "marketing_email", "granted": False, "channel": "phone", "wording": "退订"},
        headers,
    )

    assert ConsentRecord.objects.count() == 2
    assert consent_allows(customer_id=customer.pk, purpose="marketing_email") is False


def test_bulk_tagging_touches_only_visible_customers(
    make_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    manager = make_user("sales-manager", teams["sales"])
    east = make_user("sales-rep", teams["east"])
    foreign = make_user("sales-rep", teams["other"])
    mine = customer_create(actor=east, values={"kind": "person", "name": "甲"})
    theirs = customer_create(actor=foreign, values={"kind": "person", "name": "乙"})

    response = _post(
        "/api/v1/customers/bulk",
        {"action": "tag", "ids": [mine.pk, theirs.pk], "tag": "VIP"},
        bearer(manager),
    )

    assert response.json() == {"action": "tag", "affected": 1}
    assert list(CustomerTag.objects.values_list("customer_id", flat=True)) == [mine.pk]


def test_custom_fields_are_validated_and_filterable(admin_user: Any, rep: Any, bearer: Any) -> None:
    admin_headers, headers = bearer(admin_user), bearer(rep)
    _post(
        "/api/v1/custom-fields",
        {
            "key": "vip_level",
            "label_zh": "VIP等级",
            "label_en": "VIP level",
            "field_type": "choice",
            "choices": ["gold", "silver"],
        },
        admin_headers,
    )
    bad = _post(
        "/api/v1/customers",
        {"kind": "person", "name": "甲", "custom_fields": {"vip_level": "bronze"}},
        headers,
    )
    good = _post(
        "/api/v1/customers",
        {"kind": "person", "name": "乙", "custom_fields": {"vip_level": "gold"}},
        headers,
    )
    _post("/api/v1/customers", {"kind": "person", "name": "丙"}, headers)

    listed = Client().get("/api/v1/customers?cf_vip_level=gold", headers=headers).json()

    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "custom.vip_level"
    assert [item["id"] for item in listed["items"]] == [good.json()["id"]]


def test_the_history_shows_field_changes(rep: Any, bearer: Any) -> None:
    customer = customer_create(actor=rep, values={"kind": "person", "name": "旧名"})
    headers = bearer(rep)
    Client().patch(
        f"/api/v1/customers/{customer.pk}",
        data={"version": 1, "name": "新名"},
        content_type="application/json",
        headers=headers,
    )

    history = Client().get(f"/api/v1/customers/{customer.pk}/history", headers=headers).json()

    assert [row["kind"] for row in history] == ["Changed", "Created"]
    assert {"field": "name", "old": "旧名", "new": "新名"} in history[0]["changes"]


def test_the_list_endpoint_runs_a_fixed_number_of_queries(
    rep: Any, api_token: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(10):
        customer_create(actor=rep, values={"kind": "person", "name": f"客户{index}"})
    headers = {"Authorization": f"Bearer {api_token(rep)}"}

    with django_assert_max_num_queries(4):
        response = Client().get("/api/v1/customers", headers=headers)

    assert len(response.json()["items"]) == 10


def test_the_history_never_shows_personal_data_in_full(rep: Any, bearer: Any) -> None:
    customer = customer_create(
        actor=rep, values={"kind": "person", "name": "甲", "phone": "13812345678"}
    )
    headers = bearer(rep)
    Client().patch(
        f"/api/v1/customers/{customer.pk}",
        data={"version": 1, "phone": "13900001111"},
        content_type="application/json",
        headers=headers,
    )

    history = Client().get(f"/api/v1/customers/{customer.pk}/history", headers=headers).json()

    assert {"field": "phone", "old": "138****5678", "new": "139****1111"} in history[0]["changes"]

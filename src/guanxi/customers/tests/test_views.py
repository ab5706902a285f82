from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.customers.models import Customer, CustomerTag, SavedFilter
from guanxi.customers.services import customer_create


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


@pytest.fixture
def client_for() -> Any:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def test_the_list_shows_visible_customers_with_masked_phones(
    rep: Any, make_user: Any, teams: dict[str, Any], client_for: Any
) -> None:
    customer_create(actor=rep, values={"kind": "person", "name": "张三", "phone": "13812345678"})
    other = make_user("sales-rep", teams["north"])
    customer_create(actor=other, values={"kind": "person", "name": "别人"})

    page = client_for(rep).get(reverse("customers:list")).content.decode()

    assert "张三" in page
    assert "138****5678" in page
    assert "13812345678" not in page
    assert "别人" not in page


def test_the_list_page_runs_a_fixed_number_of_queries(
    rep: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(20):
        customer_create(actor=rep, values={"kind": "person", "name": f"客户{index}"})
    client = client_for(rep)

    with django_assert_max_num_queries(18):
        response = client.get(reverse("customers:list"))

    assert response.content.decode().count("data-customer=") == 20


def test_the_htmx_search_returns_only_matching_rows(rep: Any, client_for: Any) -> None:
    customer_create(actor=rep, values={"kind": "person", "name": "张三"})
    customer_create(actor=rep, values={"kind": "person", "name": "李四"})

    response = client_for(rep).get(
        reverse("customers:list"), {"q": "zs"}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert "张三" in body
    assert "李四" not in body
    assert "<html" not in body


def test_an_empty_list_shows_a_friendly_empty_state(rep: Any, client_for: Any) -> None:
    page = client_for(rep).get(reverse("customers:list")).content.decode()

    assert "No customers yet" in page


def test_creating_a_customer_in_the_form(rep: Any, client_for: Any) -> None:
    response = client_for(rep).post(
        reverse("customers:create"),
        {
            "kind": "enterprise",
            "name": "华星科技",
            "source": "referral",
            "status": "active",
            "phone": "021-62345678",
            "credit_code": "91310000MA1FL0TT8X",
        },
    )

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert (customer.kind, customer.phone) == ("enterprise", "+862162345678")


def test_a_bad_phone_in_the_form_shows_the_error_on_the_field(rep: Any, client_for: Any) -> None:
    response = client_for(rep).post(
        reverse("customers:create"),
        {
            "kind": "person",
            "name": "甲",
            "source": "other",
            "status": "active",
            "phone": "123",
        },
    )

    assert response.status_code == 200
    assert 'data-field-error="phone"' in response.content.decode()
    assert not Customer.objects.exists()


def test_the_form_warns_about_a_likely_duplicate(rep: Any, client_for: Any) -> None:
    existing = customer_create(
        actor=rep, values={"kind": "person", "name": "甲", "phone": "13812345678"}
    )

    response = client_for(rep).post(
        reverse("customers:create"),
        {
            "kind": "person",
            "name": "乙",
            "source": "other",
            "status": "active",
            "phone": "13812345678",
        },
    )

    assert "data-duplicates" in response.content.decode()
    assert list(Customer.objects.all()) == [existing]


def test_the_360_page_shows_profile_contacts_and_consent(rep: Any, client_for: Any) -> None:
    from guanxi.customers.services import consent_record, contact_create

    company = customer_create(actor=rep, values={"kind": "enterprise", "name": "华星科技"})
    contact_create(actor=rep, customer=company, values={"name": "赵经理"}, phones=["13566667777"])
    consent_record(
        actor=rep, customer=company, purpose="sms", granted=True, channel="web", wording="同意"
    )

    page = client_for(rep).get(reverse("customers:detail", args=[company.pk])).content.decode()

    assert 'data-contact="赵经理"' in page
    assert "135****7777" in page
    assert 'data-purpose="sms"' in page


def test_a_foreign_customer_page_answers_404(
    make_user: Any, teams: dict[str, Any], client_for: Any
) -> None:
    owner = make_user("sales-rep", teams["north"])
    customer = customer_create(actor=owner, values={"kind": "person", "name": "甲"})
    outsider = make_user("sales-rep", teams["east"])

    response = client_for(outsider).get(reverse("customers:detail", args=[customer.pk]))

    assert response.status_code == 404


def test_reveal_from_the_page_shows_the_value_and_logs_it(rep: Any, client_for: Any) -> None:
    from guanxi.audit.models import AccessLog

    customer = customer_create(
        actor=rep, values={"kind": "person", "name": "甲", "phone": "13812345678"}
    )

    response = client_for(rep).post(
        reverse("customers:reveal", args=[customer.pk, "phone"]), headers={"HX-Request": "true"}
    )

    assert "+8613812345678" in response.content.decode()
    assert AccessLog.objects.filter(action="reveal", field="phone").count() == 1


def test_bulk_tag_from_the_list(rep: Any, client_for: Any) -> None:
    first = customer_create(actor=rep, values={"kind": "person", "name": "甲"})
    second = customer_create(actor=rep, values={"kind": "person", "name": "乙"})
    manager_client = client_for(rep)

    manager_client.post(
        reverse("customers:bulk"), {"ids": [first.pk], "action": "tag", "tag": "VIP"}
    )

    assert list(CustomerTag.objects.values_list("customer_id", flat=True)) == [first.pk]
    assert second.pk not in CustomerTag.objects.values_list("customer_id", flat=True)


def test_saving_a_filter(rep: Any, client_for: Any) -> None:
    client = client_for(rep)

    client.post(
        reverse("customers:filter-save"), {"name": "上海个人", "query": "kind=person&city=上海"}
    )
    page = client.get(reverse("customers:list")).content.decode()

    assert SavedFilter.objects.get(user=rep).query == "kind=person&city=上海"
    assert "上海个人" in page


def test_an_administrator_defines_a_custom_field_in_the_ui(
    admin_user: Any, client_for: Any
) -> None:
    from guanxi.customers.models import CustomFieldDefinition

    response = client_for(admin_user).post(
        reverse("customers:custom-fields"),
        {
            "target": "customer",
            "key": "annual_revenue",
            "label_zh": "年收入",
            "label_en": "Annual revenue",
            "field_type": "decimal",
            "position": 1,
            "is_active": "on",
            "show_in_list": "on",
        },
    )

    assert response.status_code == 302
    assert CustomFieldDefinition.objects.get().label_zh == "年收入"


def test_the_customer_form_renders_custom_fields(admin_user: Any, client_for: Any) -> None:
    from guanxi.customers.services import custom_field_save

    custom_field_save(
        actor=admin_user,
        values={
            "key": "vip_level",
            "label_zh": "VIP等级",
            "label_en": "VIP level",
            "field_type": "choice",
            "choices": ["gold", "silver"],
        },
    )

    page = client_for(admin_user).get(reverse("customers:create")).content.decode()

    assert 'name="cf_vip_level"' in page

"""The list and 360 pages: what they show, and that their cost does not grow with the rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers.services import contact_create, customer_create


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"], display_name="Wang Fang")


@pytest.fixture
def client(rep: Any) -> Client:
    client = Client()
    client.force_login(rep)
    return client


def _queries(client: Client, url: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_each_row_shows_kind_status_owner_and_a_link_to_the_360_page(
    rep: Any, client: Client
) -> None:
    customer = customer_create(actor=rep, values={"kind": "enterprise", "name": "华星科技"})

    page = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    row = page[page.index(f'data-customer="{customer.pk}"') :].split("</tr>", 1)[0]
    assert f'href="{reverse("customers:detail", args=[customer.pk])}"' in row
    assert "<td>Enterprise</td>" in row
    assert "<td>Active</td>" in row
    assert "<td>Wang Fang</td>" in row


@pytest.mark.parametrize("role", ["sales-rep", "sales-manager", "administrator"])
def test_the_owner_filter_offers_the_users_in_scope_whatever_the_role(
    make_user: Any, teams: dict[str, Any], role: str
) -> None:
    actor = make_user(role, teams["east"], display_name="Zhou Min")
    client = Client()
    client.force_login(actor)

    page = client.get(reverse("customers:list")).content.decode()

    owner_filter = page[page.index('<select class="form-select" name="owner"') :]
    assert f'<option value="{actor.pk}">Zhou Min</option>' in owner_filter.split("</select>")[0]


def test_the_row_labels_follow_the_language(rep: Any, client: Client) -> None:
    customer = customer_create(actor=rep, values={"kind": "person", "name": "张三"})

    page = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    row = page[page.index(f'data-customer="{customer.pk}"') :].split("</tr>", 1)[0]
    assert "<td>个人</td>" in row


def test_the_list_page_costs_the_same_queries_for_one_row_or_fifty(
    rep: Any, client: Client
) -> None:
    customer_create(actor=rep, values={"kind": "person", "name": "客户0", "phone": "13800000000"})
    one = _queries(client, reverse("customers:list"))
    for index in range(1, 60):
        customer_create(actor=rep, values={"kind": "person", "name": f"客户{index}"})

    fifty = _queries(client, reverse("customers:list"))

    assert fifty == one


def test_the_htmx_rows_of_a_search_skip_the_filter_form(rep: Any, client: Client) -> None:
    customer_create(actor=rep, values={"kind": "person", "name": "张三"})
    full = _queries(client, reverse("customers:list") + "?q=张三")

    response = client.get(reverse("customers:list") + "?q=张三", HTTP_HX_REQUEST="true")

    assert response.content.decode().count("data-customer=") == 1
    assert 'id="customer-filters"' not in response.content.decode()
    assert _queries(client, reverse("customers:list") + "?q=张三", HTTP_HX_REQUEST="true") < full


def test_the_360_page_costs_the_same_queries_with_one_contact_or_ten(
    rep: Any, client: Client
) -> None:
    company = customer_create(actor=rep, values={"kind": "enterprise", "name": "某公司"})
    contact_create(actor=rep, customer=company, values={"name": "联系人0"}, phones=["13700000000"])
    url = reverse("customers:detail", args=[company.pk])
    one = _queries(client, url)
    for index in range(1, 10):
        contact_create(
            actor=rep,
            customer=company,
            values={"name": f"联系人{index}"},
            phones=[f"137000000{index:02d}"],
        )

    ten = _queries(client, url)

    assert ten == one


def test_the_360_page_loads_its_forms_only_when_a_section_is_opened(
    rep: Any, client: Client
) -> None:
    customer = customer_create(actor=rep, values={"kind": "enterprise", "name": "某公司"})
    form_url = reverse("customers:form-part", args=[customer.pk, "contact"])

    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    form = client.get(form_url).content.decode()

    assert 'name="phones"' not in page
    assert f'hx-get="{form_url}"' in page
    assert 'name="phones"' in form
    assert f'action="{reverse("customers:contact-create", args=[customer.pk])}"' in form


@pytest.mark.parametrize(
    ("part", "field"),
    [("contact", "buying_role"), ("address", "postal_code"), ("consent", "purpose")],
)
def test_each_lazy_form_of_the_360_page_renders_its_fields(
    rep: Any, client: Client, part: str, field: str
) -> None:
    customer = customer_create(actor=rep, values={"kind": "person", "name": "甲"})

    response = client.get(reverse("customers:form-part", args=[customer.pk, part]))

    assert f'name="{field}"' in response.content.decode()


def test_an_unknown_form_of_the_360_page_is_not_found(rep: Any, client: Client) -> None:
    customer = customer_create(actor=rep, values={"kind": "person", "name": "甲"})

    response = client.get(reverse("customers:form-part", args=[customer.pk, "password"]))

    assert response.status_code == 404


def test_the_forms_of_a_foreign_customer_are_not_found(
    make_user: Any, teams: dict[str, Any], client: Client
) -> None:
    owner = make_user("sales-rep", teams["north"])
    foreign = customer_create(actor=owner, values={"kind": "person", "name": "乙"})

    response = client.get(reverse("customers:form-part", args=[foreign.pk, "contact"]))

    assert response.status_code == 404


def test_the_360_page_shows_the_customers_groups_and_offers_every_group(
    rep: Any, client: Client
) -> None:
    from guanxi.customers.models import Customer
    from guanxi.customers.services import customers_bulk, group_create

    customer = customer_create(actor=rep, values={"kind": "person", "name": "甲"})
    member = group_create(actor=rep, name="重点客户")
    other = group_create(actor=rep, name="潜在客户")
    customers_bulk(
        actor=rep,
        customers=Customer.objects.filter(pk=customer.pk),
        action="group",
        group_id=member.pk,
    )

    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    labels = page[page.index('id="labels"') :].split("</div>", 1)[0]
    choices = page[page.index('<select class="form-select" name="group"') :].split("</select>")[0]
    assert ("重点客户" in labels, "潜在客户" in labels) == (True, False)
    assert (f'value="{member.pk}"' in choices, f'value="{other.pk}"' in choices) == (True, True)

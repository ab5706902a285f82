from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from guanxi.core.errors import DomainError, StaleEdit
from guanxi.customers.models import Customer, SearchToken
from guanxi.customers.services import DuplicateCustomer, customer_create, customer_update

VALID_ID = "11010519491231002X"
VALID_USCC = "91110108551385082Q"


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


def test_creating_a_person_stores_normalised_encrypted_contact_data(rep: Any) -> None:
    customer = customer_create(
        actor=rep,
        values={
            "kind": "person",
            "name": "张三",
            "phone": "138 1234 5678",
            "email": " Zhang@Example.COM ",
            "id_number": VALID_ID,
        },
    )

    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.phone, stored.email, stored.phone_last4) == (
        "+8613812345678",
        "zhang@example.com",
        "5678",
    )
    assert stored.birthday.isoformat() == "1949-12-31"
    assert (stored.name_pinyin, stored.name_initials) == ("zhangsan", "zs")
    assert stored.code == f"C{stored.pk:08d}"
    assert (stored.owner, stored.team) == (rep, rep.team)


def test_personal_data_is_not_stored_in_plain_text(rep: Any) -> None:
    from django.db import connection

    customer = customer_create(
        actor=rep, values={"kind": "person", "name": "李四", "phone": "13812345678"}
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM customers_customer WHERE id = %s", [customer.pk])
        raw = cursor.fetchone()[0]
    assert "13812345678" not in raw
    assert raw.startswith("g1:")


def test_a_chinese_name_gets_one_and_two_character_tokens(rep: Any) -> None:
    customer = customer_create(actor=rep, values={"kind": "person", "name": "欧阳娜娜"})

    tokens = set(SearchToken.objects.filter(customer=customer).values_list("token", flat=True))

    assert tokens == {"欧", "阳", "娜", "欧阳", "阳娜", "娜娜"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"kind": "enterprise", "credit_code": "91110108551385082A"}, "credit_code"),
        ({"kind": "alien"}, "kind"),
        ({"name": ""}, "name"),
        ({"birthday": "31/31/2020"}, "birthday"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    rep: Any, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        customer_create(actor=rep, values={"kind": "person", "name": "王五", **values})

    assert field in [error["field"] for error in caught.value.errors]
    assert not Customer.objects.exists()


def test_an_enterprise_with_a_valid_credit_code(rep: Any) -> None:
    customer = customer_create(
        actor=rep,
        values={
            "kind": "enterprise",
            "name": "华为技术有限公司",
            "credit_code": VALID_USCC.lower(),
            "industry": "I",
            "size_band": "huge",
            "website": "www.example.com",
        },
    )

    assert (customer.credit_code, customer.industry.code, customer.website) == (
        VALID_USCC,
        "I",
        "https://www.example.com",
    )


def test_a_second_customer_with_the_same_phone_is_a_likely_duplicate(rep: Any) -> None:
    first = customer_create(
        actor=rep, values={"kind": "person", "name": "甲", "phone": "13812345678"}
    )

    with pytest.raises(DuplicateCustomer) as caught:
        customer_create(
            actor=rep, values={"kind": "person", "name": "乙", "phone": "+86 138-1234-5678"}
        )

    assert caught.value.duplicates == [first]
    assert Customer.objects.count() == 1


def test_a_likely_duplicate_can_be_created_on_purpose(rep: Any) -> None:
    customer_create(actor=rep, values={"kind": "person", "name": "甲", "phone": "13812345678"})

    customer_create(
        actor=rep,
        values={"kind": "person", "name": "乙", "phone": "13812345678"},
        allow_duplicate=True,
    )

    assert Customer.objects.count() == 2


def test_an_analyst_cannot_create_customers(make_user: Any) -> None:
    with pytest.raises(PermissionDenied):
        customer_create(actor=make_user("analyst"), values={"kind": "person", "name": "x"})

    assert not Customer.objects.exists()


def test_a_stale_edit_is_refused(rep: Any) -> None:
    customer = customer_create(actor=rep, values={"kind": "person", "name": "原名"})
    customer_update(actor=rep, customer=customer, values={"name": "新名"}, version=1)

    with pytest.raises(StaleEdit):
        customer_update(actor=rep, customer=customer, values={"name": "覆盖"}, version=1)

    assert Customer.objects.get(pk=customer.pk).name == "新名"


def test_renaming_refreshes_the_search_tokens(rep: Any) -> None:
    customer = customer_create(actor=rep, values={"kind": "person", "name": "张三"})

    customer_update(actor=rep, customer=customer, values={"name": "李四"}, version=1)

    tokens = set(SearchToken.objects.filter(customer=customer).values_list("token", flat=True))
    assert tokens == {"李", "四", "李四"}

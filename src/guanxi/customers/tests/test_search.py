"""The search box against a full scan: every match, nothing else, on both databases."""

from __future__ import annotations

import random
from typing import Any

import pytest

from guanxi.customers.models import Customer
from guanxi.customers.selectors import CustomerFilters, customer_list
from guanxi.customers.services import customer_create

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["sales"])


@pytest.fixture
def chinese_customers(manager: Any) -> list[Customer]:
    rng = random.Random(7)
    names = set()
    while len(names) < 120:
        length = rng.choice([1, 2, 2, 3])
        names.add(rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(length)))
    return [
        customer_create(
            actor=manager, values={"kind": "person", "name": name}, allow_duplicate=True
        )
        for name in sorted(names)
    ]


def _search(actor: Any, term: str) -> set[int]:
    return set(
        customer_list(actor=actor, filters=CustomerFilters(q=term)).values_list("pk", flat=True)
    )


def test_one_and_two_character_searches_find_exactly_what_a_full_scan_finds(
    manager: Any, chinese_customers: list[Customer]
) -> None:
    rng = random.Random(11)
    terms = {
        c.name[i : i + n]
        for c in rng.sample(chinese_customers, 40)
        for n in (1, 2)
        for i in range(len(c.name) - n + 1)
    }

    mismatches = {
        term: (_search(manager, term), {c.pk for c in chinese_customers if term in c.name})
        for term in sorted(terms)
        if _search(manager, term) != {c.pk for c in chinese_customers if term in c.name}
    }

    assert len(terms) > 50
    assert mismatches == {}


def test_three_character_search_needs_the_characters_in_order(manager: Any) -> None:
    wanted = customer_create(actor=manager, values={"kind": "person", "name": "欧阳娜娜"})
    customer_create(actor=manager, values={"kind": "person", "name": "娜阳欧"})

    assert _search(manager, "欧阳娜") == {wanted.pk}


def test_pinyin_and_initials_find_chinese_names(manager: Any) -> None:
    zhang = customer_create(actor=manager, values={"kind": "person", "name": "张三"})
    customer_create(actor=manager, values={"kind": "person", "name": "李四"})

    assert (_search(manager, "zhangsan"), _search(manager, "zs"), _search(manager, "ZhangS")) == (
        {zhang.pk},
        {zhang.pk},
        {zhang.pk},
    )


def test_latin_substring_is_case_insensitive(manager: Any) -> None:
    acme = customer_create(actor=manager, values={"kind": "enterprise", "name": "Acme Trading"})
    customer_create(actor=manager, values={"kind": "enterprise", "name": "Globex"})

    assert _search(manager, "trad") == {acme.pk}


@pytest.mark.parametrize("term", ["13812345678", "+86 138-1234-5678", "5678"])
def test_phone_search_by_full_number_or_last_four(manager: Any, term: str) -> None:
    match = customer_create(
        actor=manager, values={"kind": "person", "name": "甲", "phone": "13812345678"}
    )
    customer_create(actor=manager, values={"kind": "person", "name": "乙", "phone": "13900001111"})

    assert _search(manager, term) == {match.pk}


def test_a_contacts_phone_finds_its_organisation(manager: Any) -> None:
    from guanxi.customers.services import contact_create

    company = customer_create(actor=manager, values={"kind": "enterprise", "name": "某公司"})
    contact_create(
        actor=manager, customer=company, values={"name": "王经理"}, phones=["13700007777"]
    )

    assert (_search(manager, "13700007777"), _search(manager, "7777")) == (
        {company.pk},
        {company.pk},
    )


def test_email_search_is_exact_and_case_insensitive(manager: Any) -> None:
    match = customer_create(
        actor=manager, values={"kind": "person", "name": "甲", "email": "li@example.com"}
    )

    assert (_search(manager, "LI@example.com"), _search(manager, "i@example.com")) == (
        {match.pk},
        set(),
    )


def test_customer_code_search(manager: Any) -> None:
    match = customer_create(actor=manager, values={"kind": "person", "name": "甲"})

    assert _search(manager, match.code.lower()) == {match.pk}


def test_search_stays_within_the_data_scope(make_user: Any, teams: dict[str, Any]) -> None:
    east_rep = make_user("sales-rep", teams["east"])
    north_rep = make_user("sales-rep", teams["north"])
    mine = customer_create(actor=east_rep, values={"kind": "person", "name": "王伟"})
    customer_create(
        actor=north_rep, values={"kind": "person", "name": "王伟"}, allow_duplicate=True
    )

    assert _search(east_rep, "王") == {mine.pk}


LATIN_WORDS = ["Acme", "Trading", "Wilson", "Johnson", "Global", "Sonic", "Harbor", "Mason"]


@pytest.fixture
def latin_customers(manager: Any) -> list[Customer]:
    rng = random.Random(5)
    customers = []
    for index in range(80):
        kind = rng.choice(["person", "enterprise"])
        values = {"kind": kind, "name": " ".join(rng.sample(LATIN_WORDS, 2)) + f" {index}"}
        if kind == "enterprise":
            values["legal_name"] = " ".join(rng.sample(LATIN_WORDS, 3)) + " Ltd."
        customers.append(customer_create(actor=manager, values=values, allow_duplicate=True))
    return customers


def _contains(customer: Customer, term: str) -> bool:
    return term.lower() in f"{customer.name}\n{customer.legal_name}".lower()


def test_latin_substrings_of_three_or_more_find_exactly_what_a_full_scan_finds(
    manager: Any, latin_customers: list[Customer]
) -> None:
    rng = random.Random(13)
    texts = [c.name for c in latin_customers] + [c.legal_name for c in latin_customers]
    samples = {
        text[i : i + n].strip()
        for text in rng.sample([t for t in texts if t], 40)
        for n in (3, 4, 6)
        for i in range(0, max(len(text) - n, 0), 3)
    }
    terms = {term for term in samples if len(term) >= 3}
    terms |= {term.upper() for term in list(terms)[:20]} | {"son 1", "Ltd.", "nosuchname"}

    mismatches = {
        term: (_search(manager, term), {c.pk for c in latin_customers if _contains(c, term)})
        for term in sorted(terms)
        if _search(manager, term) != {c.pk for c in latin_customers if _contains(c, term)}
    }

    assert len(terms) > 100
    assert mismatches == {}


def test_a_common_fragment_past_the_index_limit_still_finds_every_match(
    manager: Any, latin_customers: list[Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("guanxi.customers.selectors.NAME_FTS_LIMIT", 3)

    found = _search(manager, "son")

    assert found == {c.pk for c in latin_customers if _contains(c, "son")}
    assert len(found) > 3


def test_a_renamed_customer_is_found_by_the_new_name_only(manager: Any) -> None:
    from guanxi.customers.services import customer_update

    customer = customer_create(actor=manager, values={"kind": "enterprise", "name": "Acme Trading"})

    customer_update(
        actor=manager,
        customer=customer,
        values={"name": "Globex Harbor", "legal_name": "Globex Holdings Ltd."},
        version=customer.version,
    )

    assert (_search(manager, "acme"), _search(manager, "harb"), _search(manager, "holdings")) == (
        set(),
        {customer.pk},
        {customer.pk},
    )


def test_a_deleted_customer_leaves_no_trace_in_name_search(manager: Any, admin_user: Any) -> None:
    from guanxi.customers.services import customer_delete

    gone = customer_create(actor=manager, values={"kind": "person", "name": "Mason Wilson"})
    customer_delete(actor=admin_user, customer=gone)

    kept = customer_create(actor=manager, values={"kind": "person", "name": "Mason Wilson"})

    assert _search(manager, "mason") == {kept.pk}


def test_a_term_with_quotes_and_operators_is_read_literally(manager: Any) -> None:
    match = customer_create(actor=manager, values={"kind": "person", "name": 'Tom "AND" O*Brien'})
    customer_create(actor=manager, values={"kind": "person", "name": "Tom Brien"})

    assert (_search(manager, '"AND" O*'), _search(manager, "AND OR")) == ({match.pk}, set())


@pytest.mark.django_db
def test_sqlite_keeps_the_name_index_in_step_with_triggers() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL serves name substrings from trigram indexes")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            ["customers_customer"],
        )
        triggers = {row[0] for row in cursor.fetchall()}

    # A later migration that rebuilds customers_customer on SQLite drops its triggers:
    # it must create these again, or name search silently stops seeing changes.
    assert triggers >= {
        "customers_customer_name_fts_insert",
        "customers_customer_name_fts_update",
        "customers_customer_name_fts_delete",
    }

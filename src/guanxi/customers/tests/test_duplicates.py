from __future__ import annotations

from typing import Any

import pytest

from guanxi.customers.duplicates import (
    DuplicateReason,
    _length_bounds,
    duplicate_candidates,
    duplicate_groups,
    name_prefix,
)
from guanxi.customers.models import Customer, CustomerStatus
from guanxi.customers.services import contact_create, customer_create

VALID_ID = "11010519491231002X"
VALID_USCC = "91110108551385082Q"


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


@pytest.fixture
def other_rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["sales"])


def make(actor: Any, name: str, kind: str = "person", **values: Any) -> Customer:
    return customer_create(
        actor=actor, values={"kind": kind, "name": name, **values}, allow_duplicate=True
    )


def found(actor: Any, customer: Customer) -> list[tuple[int, list[str]]]:
    return [
        (candidate.customer.pk, candidate.reasons)
        for candidate in duplicate_candidates(actor=actor, customer=customer)
    ]


@pytest.mark.parametrize(
    ("kind", "first", "second", "reason"),
    [
        ("person", {"phone": "13812345678"}, {"phone": "+86 138-1234-5678"}, "phone"),
        ("person", {"email": "li@example.com"}, {"email": " LI@Example.com"}, "email"),
        ("person", {"id_number": VALID_ID}, {"id_number": VALID_ID.lower()}, "id_number"),
        ("enterprise", {"credit_code": VALID_USCC}, {"credit_code": VALID_USCC}, "credit_code"),
    ],
)
def test_a_customer_sharing_an_exact_key_is_a_candidate_for_that_reason(
    rep: Any, kind: str, first: dict[str, str], second: dict[str, str], reason: str
) -> None:
    subject = make(rep, "王小明", kind, **first)
    twin = make(rep, "Zhou Bing", kind, **second)
    make(rep, "陈大文", kind)

    assert found(rep, subject) == [(twin.pk, [reason])]


def test_the_same_folded_name_is_a_candidate(rep: Any) -> None:
    subject = make(rep, "Acme Trading Co., Ltd.", "enterprise")
    twin = make(rep, "ACME trading ltd", "enterprise")

    assert found(rep, subject) == [(twin.pk, [DuplicateReason.SAME_NAME.value])]


def test_a_phone_on_another_customers_contact_person_is_a_candidate(rep: Any) -> None:
    person = make(rep, "王小明", phone="13812345678")
    company = make(rep, "某某贸易", "enterprise")
    contact_create(actor=rep, customer=company, values={"name": "王经理"}, phones=["13812345678"])

    assert found(rep, person) == [(company.pk, ["phone"])]
    assert found(rep, company) == [(person.pk, ["phone"])]


def test_an_email_on_another_customers_contact_person_is_a_candidate(rep: Any) -> None:
    person = make(rep, "王小明", email="wang@example.com")
    company = make(rep, "某某贸易", "enterprise")
    contact_create(
        actor=rep, customer=company, values={"name": "王经理"}, emails=["wang@example.com"]
    )

    assert found(rep, person) == [(company.pk, ["email"])]


def test_similar_names_at_or_above_the_threshold_are_candidates_and_others_not(
    rep: Any,
) -> None:
    subject = make(rep, "Acme Trading", "enterprise")
    close = make(rep, "Acme Tradinq", "enterprise")  # 20/22 ≈ 0.91
    make(rep, "Acme Holdings", "enterprise")  # same prefix, ratio < 0.85
    make(rep, "Acme Trading and Shipping Group", "enterprise")  # too long to be similar
    make(rep, "Trading Acme", "enterprise")  # another prefix

    candidates = duplicate_candidates(actor=rep, customer=subject)

    assert [(c.customer.pk, c.reasons) for c in candidates] == [(close.pk, ["similar_name"])]
    assert candidates[0].similarity == pytest.approx(0.909, abs=0.001)
    assert candidates[0].score == 55


def test_similar_chinese_names_share_a_two_character_prefix(rep: Any) -> None:
    subject = make(rep, "深圳腾飞科技发展有限公司", "enterprise")
    close = make(rep, "深圳腾飞科技开发有限公司", "enterprise")
    make(rep, "深圳华强电子", "enterprise")

    assert found(rep, subject) == [(close.pk, ["similar_name"])]


def test_a_similar_name_is_found_among_many_sharing_its_prefix(rep: Any) -> None:
    subject = make(rep, "深圳腾飞科技发展有限公司", "enterprise")
    close = make(rep, "深圳腾飞科技开发有限公司", "enterprise")
    Customer.objects.bulk_create(
        Customer(kind="enterprise", name=name, name_key=name, owner=rep, team=rep.team)
        for name in [f"深圳{chr(0x4E00 + n)}{chr(0x4E00 + n)}实业" for n in range(150)]
        + [f"深圳鼎{chr(0x4E00 + n)}实业" for n in range(150)]
    )

    assert found(rep, subject) == [(close.pk, ["similar_name"])]


def test_name_prefixes_are_two_cjk_characters_or_four_letters() -> None:
    assert (name_prefix("腾飞科技"), name_prefix("acmetrading"), name_prefix("ab")) == (
        "腾飞",
        "acme",
        "ab",
    )


def test_the_length_filter_keeps_every_length_that_can_reach_the_threshold() -> None:
    low, high = _length_bounds(20)

    reachable = [b for b in range(1, 60) if 2 * min(20, b) / (20 + b) >= 0.85]

    assert low <= min(reachable)
    assert high >= max(reachable)


def test_more_evidence_scores_higher_and_comes_first(rep: Any) -> None:
    subject = make(rep, "王小明", phone="13812345678", id_number=VALID_ID)
    phone_only = make(rep, "李四", phone="13812345678")
    phone_and_name = make(rep, "王小明", phone="13812345678")
    strong = make(rep, "张三", id_number=VALID_ID)

    candidates = duplicate_candidates(actor=rep, customer=subject)

    assert [(c.customer.pk, c.reasons, c.score) for c in candidates] == [
        (strong.pk, ["id_number"], 100),
        (phone_and_name.pk, ["phone", "same_name"], 95),
        (phone_only.pk, ["phone"], 90),
    ]


def test_merged_customers_are_not_candidates(rep: Any) -> None:
    subject = make(rep, "王小明", phone="13812345678")
    merged = make(rep, "王小明", phone="13812345678")
    Customer.objects.filter(pk=merged.pk).update(status=CustomerStatus.MERGED, merged_into=subject)

    assert found(rep, subject) == []


def test_a_rep_does_not_see_duplicates_among_other_reps_customers(
    rep: Any, other_rep: Any, manager: Any
) -> None:
    subject = make(rep, "王小明", phone="13812345678")
    foreign = make(other_rep, "王小明", phone="13812345678")

    assert found(rep, subject) == []
    assert found(manager, subject) == [(foreign.pk, ["phone", "same_name"])]


def test_candidates_take_six_queries(rep: Any, django_assert_num_queries: Any) -> None:
    subject = make(rep, "王小明", phone="13812345678")
    for n in range(5):
        make(rep, f"王小明{n}", phone="13812345678")

    # contact persons' keys, contact persons sharing them, names after and before, the keys
    # of the matches, the best ones loaded
    with django_assert_num_queries(6):
        candidates = duplicate_candidates(actor=rep, customer=subject)
        names = [c.customer.owner for c in candidates]

    assert len(names) == 5


# --- the scan -----------------------------------------------------------------------------------


def groups_of(actor: Any, limit: int = 100) -> list[tuple[str, int, list[int]]]:
    return [
        (group.reason, group.size, group.customer_ids)
        for group in duplicate_groups(actor=actor, limit=limit)
    ]


def test_the_scan_groups_customers_by_each_key_strongest_first(rep: Any) -> None:
    a = make(rep, "甲", phone="13812345678")
    b = make(rep, "乙", phone="13812345678", email="x@example.com")
    c = make(rep, "丙", email="x@example.com")
    d = make(rep, "丁", id_number=VALID_ID)
    e = make(rep, "戊", id_number=VALID_ID)
    f = make(rep, "Acme Ltd", "enterprise", credit_code=VALID_USCC)
    g = make(rep, "Beta Works", "enterprise", credit_code=VALID_USCC)
    h = make(rep, "甲")
    make(rep, "独一无二")

    assert groups_of(rep) == [
        ("id_number", 2, [d.pk, e.pk]),
        ("credit_code", 2, [f.pk, g.pk]),
        ("phone", 2, [a.pk, b.pk]),
        ("email", 2, [b.pk, c.pk]),
        ("same_name", 2, [a.pk, h.pk]),
    ]


def test_the_scan_ignores_blank_keys_and_merged_customers(rep: Any) -> None:
    first = make(rep, "甲")
    make(rep, "乙")
    merged = make(rep, "甲")
    Customer.objects.filter(pk=merged.pk).update(status=CustomerStatus.MERGED, merged_into=first)

    assert groups_of(rep) == []


def test_the_scan_stays_within_the_actors_scope(rep: Any, other_rep: Any, manager: Any) -> None:
    mine = make(rep, "甲", phone="13812345678")
    theirs = make(other_rep, "乙", phone="13812345678")

    assert groups_of(rep) == []
    assert groups_of(manager) == [("phone", 2, [mine.pk, theirs.pk])]


def test_a_big_group_shows_its_size_and_its_first_eleven_members(rep: Any) -> None:
    members = [make(rep, f"客户{n:02d}", phone="13812345678") for n in range(13)]

    assert groups_of(rep) == [("phone", 13, [c.pk for c in members[:11]])]


def test_the_scan_stops_at_the_limit_strongest_first(rep: Any) -> None:
    d = make(rep, "丁", id_number=VALID_ID)
    e = make(rep, "戊", id_number=VALID_ID)
    make(rep, "甲", phone="13812345678")
    make(rep, "乙", phone="13812345678")

    assert groups_of(rep, limit=1) == [("id_number", 2, [d.pk, e.pk])]


def test_the_scan_takes_at_most_two_queries_per_key(
    rep: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(4):
        make(rep, "甲", phone="13812345678", email=f"x{n % 2}@example.com")

    with django_assert_max_num_queries(10):
        groups = duplicate_groups(actor=rep)

    assert [group.reason for group in groups] == ["phone", "email", "email", "same_name"]

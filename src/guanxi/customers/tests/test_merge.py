from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from guanxi.core import crypto, events
from guanxi.core.errors import Conflict, DomainError, StaleEdit
from guanxi.customers.merge import (
    customer_merge,
    merge_customers_get,
    merge_defaults,
    merge_preview,
    movable_relations,
)
from guanxi.customers.models import (
    Address,
    ConsentRecord,
    Contact,
    ContactMethod,
    Customer,
    CustomerStatus,
    CustomerTag,
    GroupMembership,
    SearchToken,
)
from guanxi.customers.normalise import search_tokens
from guanxi.customers.services import (
    address_save,
    consent_record,
    contact_create,
    custom_field_save,
    customer_create,
    customer_update,
    customers_group,
    customers_tag,
    group_create,
    tag_get_or_create,
)

VALID_ID = "11010519491231002X"
OTHER_ID = "110105194912310046"


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["sales"])


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


@pytest.fixture
def other_rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


def make(actor: Any, name: str, kind: str = "person", **values: Any) -> Customer:
    return customer_create(
        actor=actor, values={"kind": kind, "name": name, **values}, allow_duplicate=True
    )


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def state() -> dict[str, Any]:
    """Everything a refused merge must leave as it was."""
    return {
        "customers": list(
            Customer.objects.order_by("pk").values_list(
                "pk", "status", "version", "merged_into_id", "name", "code", "phone_index"
            )
        ),
        "contacts": list(Contact.objects.order_by("pk").values_list("pk", "customer_id")),
        "methods": list(ContactMethod.objects.order_by("pk").values_list("pk", "customer_id")),
        "tags": list(CustomerTag.objects.order_by("pk").values_list("pk", "customer_id")),
        "history": Customer.history.count(),
    }


def _merge(actor: Any, survivor: Customer, *others: Customer, **extra: Any) -> Customer:
    return customer_merge(
        actor=actor,
        survivor=survivor,
        others=list(others),
        choices=extra.pop("choices", {}),
        **extra,
    )


# --- what moves ---------------------------------------------------------------------------------


def test_contacts_and_their_phones_move_to_the_survivor(manager: Any) -> None:
    survivor = make(manager, "华为技术", "enterprise")
    other = make(manager, "华为技术有限公司", "enterprise")
    contact = contact_create(
        actor=manager, customer=other, values={"name": "王经理"}, phones=["13812345678"]
    )

    _merge(manager, survivor, other)

    assert list(Contact.objects.filter(customer=survivor)) == [contact]
    assert list(ContactMethod.objects.values_list("customer_id", "contact_id")) == [
        (survivor.pk, contact.pk)
    ]


def test_the_survivors_primary_contact_stays_the_only_primary(manager: Any) -> None:
    survivor = make(manager, "甲公司", "enterprise")
    other = make(manager, "甲公司分部", "enterprise")
    kept = contact_create(actor=manager, customer=survivor, values={"name": "张"})
    moved = contact_create(actor=manager, customer=other, values={"name": "李"})

    _merge(manager, survivor, other)

    assert list(
        Contact.objects.filter(customer=survivor).order_by("pk").values_list("pk", "is_primary")
    ) == [(kept.pk, True), (moved.pk, False)]


def test_without_a_primary_contact_the_survivor_takes_the_first_moved_one(manager: Any) -> None:
    survivor = make(manager, "甲公司", "enterprise")
    first = make(manager, "甲公司一", "enterprise")
    second = make(manager, "甲公司二", "enterprise")
    one = contact_create(actor=manager, customer=first, values={"name": "张"})
    two = contact_create(actor=manager, customer=second, values={"name": "李"})

    _merge(manager, survivor, first, second)

    assert list(
        Contact.objects.filter(customer=survivor).order_by("pk").values_list("pk", "is_primary")
    ) == [(one.pk, True), (two.pk, False)]


def test_addresses_and_consents_move_and_one_address_stays_primary(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    home = address_save(actor=manager, customer=survivor, values={"city": "北京"})
    office = address_save(actor=manager, customer=other, values={"city": "上海"})
    consent = consent_record(
        actor=manager,
        customer=other,
        purpose="sms",
        granted=True,
        channel="form",
        wording="同意接收短信",
    )

    _merge(manager, survivor, other)

    assert list(
        Address.objects.filter(customer=survivor).order_by("pk").values_list("pk", "is_primary")
    ) == [(home.pk, True), (office.pk, False)]
    assert list(ConsentRecord.objects.filter(customer=survivor)) == [consent]


def test_tags_and_groups_move_without_duplicates(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    third = make(manager, "王小名")
    vip, new = (tag_get_or_create(actor=manager, name=name) for name in ("vip", "new"))
    family, club = (group_create(actor=manager, name=name) for name in ("家庭", "俱乐部"))
    everyone = Customer.objects.filter(pk__in=[survivor.pk, other.pk, third.pk])
    customers_tag(actor=manager, customers=everyone, tag=vip)
    customers_tag(actor=manager, customers=everyone.exclude(pk=survivor.pk), tag=new)
    customers_group(actor=manager, customers=everyone, group=family)
    customers_group(actor=manager, customers=everyone.filter(pk=third.pk), group=club)

    _merge(manager, survivor, other, third)

    assert sorted(CustomerTag.objects.values_list("customer_id", "tag__name")) == [
        (survivor.pk, "new"),
        (survivor.pk, "vip"),
    ]
    assert sorted(GroupMembership.objects.values_list("customer_id", "group__name")) == [
        (survivor.pk, "俱乐部"),
        (survivor.pk, "家庭"),
    ]


def test_the_survivors_search_tokens_follow_the_surviving_name(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "欧阳娜娜")

    _merge(manager, survivor, other, choices={"name": other.pk})

    assert set(SearchToken.objects.filter(customer=survivor).values_list("token", flat=True)) == (
        search_tokens("欧阳娜娜")
    )
    assert fresh(survivor).name_key == "欧阳娜娜"


def test_every_foreign_key_to_customer_moves_except_history_and_kept_records() -> None:
    keys = {relation.key for relation in movable_relations()}

    assert {
        "customers.address.customer",
        "customers.consentrecord.customer",
        "customers.contact.customer",
        "customers.contactmethod.customer",
        "customers.customertag.customer",
        "customers.groupmembership.customer",
    } <= keys
    assert not {key for key in keys if ".historical" in key or "searchtoken" in key}
    assert "customers.customer.merged_into" not in keys
    assert "customers.importedrow.customer" not in keys


def test_interactions_of_another_domain_move_too(manager: Any) -> None:
    if not apps.is_installed("guanxi.interactions"):
        pytest.skip("the interactions app is not installed")
    interaction_model = apps.get_model("interactions", "Interaction")
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    interaction = interaction_model.objects.create(
        customer=other, channel="note", occurred_at=timezone.now(), summary="来电咨询"
    )

    _merge(manager, survivor, other)

    moved = interaction_model.objects.get(pk=interaction.pk)
    assert (moved.customer_id, moved.version) == (survivor.pk, interaction.version + 1)


# --- the surviving values -----------------------------------------------------------------------


def test_chosen_values_survive_including_an_encrypted_one_from_the_other(manager: Any) -> None:
    survivor = make(manager, "王小明", phone="13812345678", occupation="教师")
    other = make(manager, "王晓明", phone="13900001111", occupation="医生", id_number=VALID_ID)

    _merge(manager, survivor, other, choices={"phone": other.pk, "occupation": survivor.pk})

    merged = fresh(survivor)
    assert (merged.name, merged.phone, merged.occupation, merged.id_number) == (
        "王小明",
        "+8613900001111",
        "教师",
        VALID_ID,
    )
    assert merged.phone_index == crypto.blind_index("+8613900001111", kind="phone")
    assert list(Customer.objects.filter(phone_index=merged.phone_index).order_by("pk")) == [
        merged,
        other,
    ]


def test_by_default_the_survivors_values_win_and_the_others_fill_blanks(manager: Any) -> None:
    survivor = make(manager, "王小明", phone="13812345678")
    other = make(
        manager, "王晓明", phone="13900001111", email="wang@example.com", birthday="1990-05-01"
    )

    _merge(manager, survivor, other)

    merged = fresh(survivor)
    assert (merged.name, merged.phone, merged.email, merged.birthday) == (
        "王小明",
        "+8613812345678",
        "wang@example.com",
        dt.date(1990, 5, 1),
    )


def test_the_defaults_pick_the_first_non_empty_value(manager: Any) -> None:
    survivor = make(manager, "甲")
    second = make(manager, "乙", city="上海")
    third = make(manager, "丙", city="北京", region="北京")

    picks = merge_defaults([survivor, second, third])

    assert (picks["name"], picks["city"], picks["region"], picks["email"]) == (
        survivor.pk,
        second.pk,
        third.pk,
        survivor.pk,
    )


def test_the_code_and_lifecycle_stage_can_come_from_the_other(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明", code="VIP-001")
    Customer.objects.filter(pk=other.pk).update(lifecycle_stage="maturity")
    other = fresh(other)

    _merge(manager, survivor, other, choices={"code": other.pk, "lifecycle_stage": other.pk})

    assert (fresh(survivor).code, fresh(survivor).lifecycle_stage, fresh(other).code) == (
        "VIP-001",
        "maturity",
        None,
    )


def test_custom_fields_merge_key_by_key(admin_user: Any, manager: Any) -> None:
    for key in ("hobby", "shoe", "pet"):
        custom_field_save(
            actor=admin_user,
            values={"key": key, "label_zh": key, "label_en": key, "field_type": "text"},
        )
    survivor = make(manager, "王小明", custom_fields={"hobby": "围棋", "pet": "猫"})
    other = make(manager, "王晓明", custom_fields={"hobby": "象棋", "shoe": "42", "pet": "狗"})

    _merge(manager, survivor, other, choices={"custom.pet": other.pk})

    assert fresh(survivor).custom_fields == {"hobby": "围棋", "shoe": "42", "pet": "狗"}


# --- what is recorded ---------------------------------------------------------------------------


def test_the_others_are_marked_merged_into_the_survivor(manager: Any) -> None:
    survivor = make(manager, "王小明")
    first = make(manager, "王晓明")
    second = make(manager, "王小名")

    result = _merge(manager, survivor, first, second)

    assert [
        (c.pk, c.status, c.merged_into_id, c.version) for c in Customer.objects.order_by("pk")
    ] == [
        (survivor.pk, CustomerStatus.ACTIVE, None, 2),
        (first.pk, CustomerStatus.MERGED, survivor.pk, 2),
        (second.pk, CustomerStatus.MERGED, survivor.pk, 2),
    ]
    assert (result.pk, result.version) == (survivor.pk, 2)


def test_history_rows_name_the_merge_on_both_sides(manager: Any) -> None:
    survivor = make(manager, "王小明")
    first = make(manager, "王晓明")
    second = make(manager, "王小名")

    _merge(manager, survivor, first, second, reason="同一人")

    def latest(customer: Customer) -> tuple[str, Any]:
        record = customer.history.order_by("-history_id").first()
        return record.history_change_reason, record.history_user

    assert latest(survivor) == (f"merge of #{first.pk}, #{second.pk}: 同一人", manager)
    assert latest(first) == (f"merged into #{survivor.pk}", manager)
    assert latest(second) == (f"merged into #{survivor.pk}", manager)


def test_the_merge_event_is_published_after_commit(
    manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    received: list[dict[str, Any]] = []

    def handler(**payload: Any) -> None:
        received.append(payload)

    events.subscribe("customer.merged", handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _merge(manager, survivor, other)
    finally:
        events.unsubscribe("customer.merged", handler)

    assert received == [{"survivor_id": survivor.pk, "merged_ids": [other.pk]}]


def test_the_merge_is_written_to_the_access_log(manager: Any) -> None:
    if not apps.is_installed("guanxi.audit"):
        pytest.skip("the audit app is not installed")
    access_log = apps.get_model("audit", "AccessLog")
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")

    _merge(manager, survivor, other)

    assert list(access_log.objects.values_list("action", "target_pk", "detail")) == [
        ("merge", str(survivor.pk), {"merged": [other.pk]})
    ]


# --- refusals -----------------------------------------------------------------------------------


def test_a_customer_cannot_be_merged_into_itself(manager: Any) -> None:
    survivor = make(manager, "王小明")
    before = state()

    with pytest.raises(DomainError):
        _merge(manager, survivor, survivor)

    assert state() == before


def test_an_already_merged_customer_is_refused(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    late = make(manager, "王小名")
    _merge(manager, survivor, other)
    before = state()

    with pytest.raises(Conflict):
        _merge(manager, late, fresh(other))

    assert state() == before


def test_merging_into_an_already_merged_customer_is_refused(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    late = make(manager, "王小名")
    _merge(manager, survivor, other)
    before = state()

    with pytest.raises(Conflict):
        _merge(manager, fresh(other), late)

    assert state() == before


def test_a_customer_outside_the_actors_scope_is_refused(rep: Any, other_rep: Any) -> None:
    mine = make(rep, "王小明")
    foreign = make(other_rep, "王晓明")
    contact_create(actor=other_rep, customer=foreign, values={"name": "张"})
    before = state()

    with pytest.raises(PermissionDenied):
        _merge(rep, mine, foreign)

    assert state() == before


def test_the_selector_answers_404_for_a_customer_outside_the_scope(
    rep: Any, other_rep: Any
) -> None:
    mine = make(rep, "王小明")
    foreign = make(other_rep, "王晓明")

    with pytest.raises(Http404):
        merge_customers_get(actor=rep, ids=[mine.pk, foreign.pk])


def test_an_actor_without_the_edit_permission_is_refused(make_user: Any, manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    before = state()

    with pytest.raises(PermissionDenied):
        _merge(make_user("analyst"), survivor, other)

    assert state() == before


def test_a_stale_version_is_refused(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    contact_create(actor=manager, customer=other, values={"name": "张"})
    customer_update(actor=manager, customer=other, values={"city": "上海"}, version=1)
    before = state()

    with pytest.raises(StaleEdit):
        _merge(manager, survivor, other)

    assert state() == before


def test_a_stale_version_given_by_id_is_refused(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    before = state()

    with pytest.raises(StaleEdit):
        _merge(manager, survivor, other, versions={survivor.pk: 7})

    assert state() == before


def test_more_than_ten_others_are_refused(manager: Any) -> None:
    survivor = make(manager, "王小明")
    others = [make(manager, f"王{n}") for n in range(11)]
    before = state()

    with pytest.raises(DomainError) as caught:
        _merge(manager, survivor, *others)

    assert caught.value.errors == [{"field": "others", "message": caught.value.message}]
    assert state() == before


def test_a_choice_of_a_customer_not_being_merged_is_refused(manager: Any) -> None:
    survivor = make(manager, "王小明")
    other = make(manager, "王晓明")
    stranger = make(manager, "李四")
    before = state()

    with pytest.raises(DomainError) as caught:
        _merge(manager, survivor, other, choices={"name": stranger.pk, "colour": other.pk})

    assert [error["field"] for error in caught.value.errors] == ["choices.name", "choices.colour"]
    assert state() == before


def test_surviving_values_that_do_not_fit_together_change_nothing(manager: Any) -> None:
    survivor = make(manager, "华为", "enterprise", credit_code="91110108551385082Q")
    other = make(manager, "华为个人", phone="13812345678")
    contact_create(actor=manager, customer=other, values={"name": "张"})
    before = state()

    with pytest.raises(DomainError) as caught:
        _merge(manager, survivor, other, choices={"kind": other.pk})

    assert [error["field"] for error in caught.value.errors] == ["credit_code"]
    assert state() == before


# --- the merge screen's reads -------------------------------------------------------------------


def test_the_preview_masks_personal_data_and_puts_the_survivor_first(manager: Any) -> None:
    first = make(manager, "王小明", phone="13812345678")
    second = make(manager, "王晓明", id_number=OTHER_ID)
    contact_create(actor=manager, customer=second, values={"name": "张"})

    preview = merge_preview(actor=manager, ids=[first.pk, second.pk], survivor_id=second.pk)

    rows = {row.name: row for row in preview.rows}
    assert preview.ids == [second.pk, first.pk]
    assert [cell.display for cell in rows["phone"].cells] == ["", "138****5678"]
    assert [cell.chosen for cell in rows["phone"].cells] == [False, True]
    assert [cell.display for cell in rows["id_number"].cells] == ["1101**********0046", ""]
    assert [(row.label, row.counts) for row in preview.summary] == [("contacts", [1, 0])]


def test_the_preview_refuses_a_single_customer(manager: Any) -> None:
    only = make(manager, "王小明")

    with pytest.raises(DomainError):
        merge_preview(actor=manager, ids=[only.pk])

"""Lead commands: entry, duplicate detection, assignment rules, scoring, conversion, scope."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from guanxi.core.errors import DomainError, StaleEdit
from guanxi.customers.models import ConsentRecord, Contact, Customer
from guanxi.customers.services import contact_create
from guanxi.leads import assignment, scoring, selectors, services
from guanxi.leads.models import (
    AssignmentMethod,
    AssignmentRule,
    IntentLevel,
    Lead,
    LeadEventKind,
    LeadStatus,
    ScoringFactor,
    ScoringRule,
)

MakeLead = Callable[..., Any]


def _rule(team: Any, method: str, members: list[Any], **extra: Any) -> AssignmentRule:
    rule = AssignmentRule.objects.create(name=method, team=team, method=method, **extra)
    rule.members.set(members)
    return rule


# --- entry and duplicates ------------------------------------------------------------------------


def test_a_lead_entered_by_hand_is_owned_by_its_author_with_the_phone_encrypted(
    rep: Any, make_lead: MakeLead, published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        lead = make_lead(rep, "周杰", phone="13812345678", company="星河科技有限公司")

    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.owner, stored.team, stored.status) == (rep, rep.team, LeadStatus.NEW)
    assert stored.phone == "+8613812345678"
    assert stored.phone_index != ""
    assert stored.company_key == "星河科技"
    assert ("lead.created", {"lead_id": lead.pk}) in published


def test_a_lead_with_a_bad_email_is_refused_and_nothing_is_stored(rep: Any) -> None:
    with pytest.raises(DomainError) as refused:
        services.lead_create(actor=rep, values={"name": "A", "email": "not-an-email"})

    assert refused.value.errors[0]["field"] == "email"
    assert not Lead.objects.exists()


def test_a_lead_with_a_customers_phone_is_attached_to_that_customer(
    rep: Any, make_customer: Callable[..., Any], make_lead: MakeLead
) -> None:
    customer = make_customer(rep, "李雷", phone="13900001111")

    lead = make_lead(rep, "Li Lei", phone="139 0000 1111")

    assert lead.matched_customer == customer
    assert list(lead.events.values_list("kind", flat=True)).count(LeadEventKind.DUPLICATE) == 1


def test_a_lead_with_a_contacts_email_is_attached_to_the_contacts_customer(
    rep: Any, make_customer: Callable[..., Any], make_lead: MakeLead
) -> None:
    company = make_customer(rep, "Acme Trading Co., Ltd.", kind="enterprise")
    contact_create(actor=rep, customer=company, values={"name": "Zoe"}, emails=["zoe@acme.cn"])

    lead = make_lead(rep, "Zoe Z", email="ZOE@acme.cn")

    assert lead.matched_customer == company


def test_a_lead_from_a_known_company_is_attached_by_the_folded_company_name(
    rep: Any, make_customer: Callable[..., Any], make_lead: MakeLead
) -> None:
    company = make_customer(rep, "Acme Trading Co., Ltd.", kind="enterprise")

    lead = make_lead(rep, "New Person", company="ACME Trading Ltd")

    assert lead.matched_customer == company


def test_a_second_lead_with_the_same_email_is_flagged_as_a_duplicate_of_the_first(
    rep: Any, make_lead: MakeLead
) -> None:
    first = make_lead(rep, "Ann", email="ann@example.com")

    second = make_lead(rep, "Ann B", email="ann@example.com")

    assert (second.duplicate_of, second.matched_customer) == (first, None)
    assert Lead.objects.get(pk=first.pk).duplicate_of is None


def test_a_lead_with_nothing_in_common_is_neither_duplicate_nor_attached(
    rep: Any, make_customer: Callable[..., Any], make_lead: MakeLead
) -> None:
    make_customer(rep, "李雷", phone="13900001111")
    make_lead(rep, "Ann", email="ann@example.com")

    lead = make_lead(rep, "Bob", phone="13700002222", email="bob@example.com")

    assert (lead.duplicate_of, lead.matched_customer) == (None, None)


# --- assignment --------------------------------------------------------------------------------


def test_round_robin_gives_each_member_the_same_number_of_leads_in_turn(
    manager: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    members = [make_user("sales-rep", teams["east"]) for _ in range(3)]
    _rule(teams["east"], AssignmentMethod.ROUND_ROBIN, members)

    owners = [
        services.lead_create(actor=manager, values={"name": f"L{i}"}, auto_assign=True).owner
        for i in range(10)
    ]

    assert owners[:6] == [*members, *members]
    assert sorted(Counter(owner.pk for owner in owners).values()) == [3, 3, 4]


def test_round_robin_skips_an_inactive_member_and_stays_fair_among_the_others(
    manager: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    members = [make_user("sales-rep", teams["east"]) for _ in range(3)]
    _rule(teams["east"], AssignmentMethod.ROUND_ROBIN, members)
    members[1].is_active = False
    members[1].save()

    owners = [
        services.lead_create(actor=manager, values={"name": f"L{i}"}, auto_assign=True).owner
        for i in range(4)
    ]

    assert owners == [members[0], members[2], members[0], members[2]]


def test_a_region_rule_wins_over_the_round_robin_for_its_region(
    manager: Any, rep: Any, teammate: Any, teams: dict[str, Any]
) -> None:
    _rule(teams["east"], AssignmentMethod.REGION, [teammate], region="上海", position=1)
    _rule(teams["east"], AssignmentMethod.ROUND_ROBIN, [rep], position=2)

    shanghai = services.lead_create(
        actor=manager, values={"name": "A", "region": "上海"}, auto_assign=True
    )
    beijing = services.lead_create(
        actor=manager, values={"name": "B", "region": "北京"}, auto_assign=True
    )

    assert (shanghai.owner, beijing.owner) == (teammate, rep)


def test_an_industry_rule_gives_its_industry_to_its_member(
    manager: Any, rep: Any, teammate: Any, teams: dict[str, Any]
) -> None:
    from guanxi.customers.models import Industry

    industry = Industry.objects.order_by("code").first()
    assert industry is not None
    _rule(teams["east"], AssignmentMethod.INDUSTRY, [teammate], industry=industry, position=1)
    _rule(teams["east"], AssignmentMethod.ROUND_ROBIN, [rep], position=2)

    lead = services.lead_create(
        actor=manager, values={"name": "A", "industry": industry.code}, auto_assign=True
    )

    assert lead.owner == teammate


def test_workload_assignment_picks_the_member_with_the_fewest_open_leads(
    manager: Any, rep: Any, teammate: Any, teams: dict[str, Any], make_lead: MakeLead
) -> None:
    make_lead(rep)
    make_lead(rep)
    make_lead(teammate)
    _rule(teams["east"], AssignmentMethod.WORKLOAD, [rep, teammate])

    lead = services.lead_create(actor=manager, values={"name": "A"}, auto_assign=True)

    assert lead.owner == teammate


def test_a_lead_no_rule_matches_stays_unowned_in_the_pool(manager: Any) -> None:
    lead = services.lead_create(actor=manager, values={"name": "A"}, auto_assign=True)

    assert lead.owner is None
    assert lead.pk in set(selectors.pool_lead_list(actor=manager).values_list("pk", flat=True))


def test_the_assigned_owner_is_announced_with_a_lead_assigned_event(
    manager: Any,
    rep: Any,
    teams: dict[str, Any],
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    _rule(teams["east"], AssignmentMethod.ROUND_ROBIN, [rep])

    with django_capture_on_commit_callbacks(execute=True):
        lead = services.lead_create(actor=manager, values={"name": "A"}, auto_assign=True)

    assert ("lead.assigned", {"lead_id": lead.pk, "owner_id": rep.pk}) in published


def test_reassigning_a_lead_with_a_stale_version_is_refused(
    manager: Any, rep: Any, teammate: Any, make_lead: MakeLead
) -> None:
    lead = make_lead(rep)

    with pytest.raises(StaleEdit):
        services.lead_assign(actor=manager, lead=lead, owner=teammate, version=lead.version + 3)

    assert Lead.objects.get(pk=lead.pk).owner == rep


# --- scoring -------------------------------------------------------------------------------------


@pytest.fixture
def rules(db: Any) -> None:
    ScoringRule.objects.create(factor=ScoringFactor.TITLE, value="director", points=20)
    ScoringRule.objects.create(factor=ScoringFactor.SIZE_BAND, value="large", points=15)
    ScoringRule.objects.create(factor=ScoringFactor.EVENT, value="replied", points=40)


def test_the_score_adds_profile_points_and_shows_each_rule_in_the_breakdown(
    rules: None, rep: Any, make_lead: MakeLead
) -> None:
    lead = make_lead(rep, title="Sales Director", size_band="large", company="X")

    stored = Lead.objects.get(pk=lead.pk)
    assert stored.score == 35
    assert [item["points"] for item in stored.score_breakdown] == [15.0, 20.0]
    assert stored.intent == IntentLevel.B


def test_behaviour_points_halve_after_one_half_life(
    rules: None, rep: Any, make_lead: MakeLead
) -> None:
    lead = make_lead(rep)
    services.lead_record_event(actor=rep, lead=lead, kind=LeadEventKind.REPLIED)
    assert Lead.objects.get(pk=lead.pk).score == 40

    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        scoring.leads_rescore()

    assert Lead.objects.get(pk=lead.pk).score == 20
    assert Lead.objects.get(pk=lead.pk).score_breakdown[0]["count"] == 1


def test_a_shorter_half_life_makes_old_behaviour_count_less(
    rules: None, rep: Any, make_lead: MakeLead, admin_user: Any
) -> None:
    lead = make_lead(rep)
    services.lead_record_event(
        actor=rep,
        lead=lead,
        kind=LeadEventKind.REPLIED,
        occurred_at=timezone.now() - timedelta(days=20),
    )
    scoring.lead_settings_save(
        actor=admin_user, half_life_days=10, intent_s=80, intent_a=50, intent_b=20
    )

    scoring.leads_rescore()

    assert Lead.objects.get(pk=lead.pk).score == 10


def test_an_intent_set_by_hand_survives_a_rescore(
    rules: None, rep: Any, make_lead: MakeLead
) -> None:
    lead = make_lead(rep)
    services.lead_set_intent(actor=rep, lead=lead, intent=IntentLevel.S)

    services.lead_record_event(actor=rep, lead=lead, kind=LeadEventKind.VISITED)
    scoring.leads_rescore()

    assert Lead.objects.get(pk=lead.pk).intent == IntentLevel.S


def test_the_intent_follows_the_thresholds_when_handed_back_to_the_rules(
    rules: None, rep: Any, make_lead: MakeLead
) -> None:
    lead = make_lead(rep, title="director")
    services.lead_set_intent(actor=rep, lead=lead, intent=IntentLevel.S)

    services.lead_set_intent(actor=rep, lead=Lead.objects.get(pk=lead.pk), intent="")

    assert Lead.objects.get(pk=lead.pk).intent == IntentLevel.B


def test_an_event_in_the_future_is_refused(rep: Any, make_lead: MakeLead) -> None:
    lead = make_lead(rep)

    with pytest.raises(DomainError):
        services.lead_record_event(
            actor=rep,
            lead=lead,
            kind=LeadEventKind.VISITED,
            occurred_at=timezone.now() + timedelta(days=1),
        )

    assert not lead.events.filter(kind=LeadEventKind.VISITED).exists()


# --- conversion --------------------------------------------------------------------------------


def test_converting_a_company_lead_creates_the_customer_and_contact_and_keeps_the_history(
    rep: Any,
    make_lead: MakeLead,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    lead = make_lead(rep, "周杰", company="星河科技", title="CTO", phone="13812345678")

    with django_capture_on_commit_callbacks(execute=True):
        converted = services.lead_convert(actor=rep, lead=lead, version=lead.version)

    customer = Customer.objects.get(pk=converted.customer_id)
    contact = Contact.objects.get(customer=customer)
    assert (customer.name, customer.owner, customer.kind) == ("星河科技", rep, "enterprise")
    assert (contact.name, contact.title) == ("周杰", "CTO")
    assert converted.status == LeadStatus.CONVERTED
    assert lead.events.filter(kind=LeadEventKind.CREATED).exists()
    assert lead.history.count() == 2
    names = [name for name, _payload in published]
    assert "lead.converted" in names


def test_converting_creates_an_open_opportunity_for_the_new_customer(
    rep: Any, make_lead: MakeLead
) -> None:
    from decimal import Decimal

    from guanxi.sales.models import Opportunity

    lead = make_lead(rep, "周杰", company="星河科技")

    converted = services.lead_convert(
        actor=rep, lead=lead, opportunity_name="ERP rollout", amount=Decimal("50000")
    )

    opportunity = Opportunity.objects.get(pk=converted.opportunity_id)
    assert (opportunity.customer_id, opportunity.name, opportunity.amount) == (
        converted.customer_id,
        "ERP rollout",
        Decimal("50000.00"),
    )
    assert (opportunity.owner, opportunity.contact_id) == (rep, converted.contact_id)


def test_converting_a_web_lead_records_the_consent_wording_on_the_customer(
    rep: Any, make_lead: MakeLead
) -> None:
    lead = make_lead(rep, "Ann", email="ann@example.com")
    Lead.objects.filter(pk=lead.pk).update(
        consent_given=True,
        consent_wording="I agree to be contacted.",
        consent_purpose="marketing_email",
        consent_at=timezone.now(),
    )

    converted = services.lead_convert(actor=rep, lead=Lead.objects.get(pk=lead.pk))

    record = ConsentRecord.objects.get(customer_id=converted.customer_id)
    assert (record.purpose, record.status, record.wording) == (
        "marketing_email",
        "granted",
        "I agree to be contacted.",
    )


def test_converting_into_a_customer_that_already_exists_is_refused_and_changes_nothing(
    rep: Any, make_customer: Callable[..., Any], make_lead: MakeLead
) -> None:
    make_customer(rep, "李雷", phone="13900001111")
    lead = make_lead(rep, "李雷", phone="13900001111")

    with pytest.raises(DomainError):
        services.lead_convert(actor=rep, lead=lead)

    assert Customer.objects.count() == 1
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_a_lead_can_be_converted_onto_its_matched_customer(
    rep: Any, make_customer: Callable[..., Any], make_lead: MakeLead
) -> None:
    customer = make_customer(rep, "李雷", phone="13900001111")
    lead = make_lead(rep, "李雷", phone="13900001111")

    converted = services.lead_convert(actor=rep, lead=lead, customer=lead.matched_customer)

    assert converted.customer == customer
    assert Customer.objects.count() == 1


def test_a_converted_lead_cannot_be_converted_again(rep: Any, make_lead: MakeLead) -> None:
    lead = services.lead_convert(actor=rep, lead=make_lead(rep, "Ann"))

    with pytest.raises(DomainError):
        services.lead_convert(actor=rep, lead=lead)

    assert Customer.objects.count() == 1


def test_disqualifying_needs_a_reason(rep: Any, make_lead: MakeLead) -> None:
    lead = make_lead(rep)

    with pytest.raises(DomainError) as refused:
        services.lead_set_status(actor=rep, lead=lead, status=LeadStatus.DISQUALIFIED)

    assert refused.value.field == "reason"
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


# --- scope ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [("rep", True), ("teammate", False), ("manager", True), ("outsider", False)],
)
def test_a_lead_is_visible_by_the_data_scope(
    viewer: str, visible: bool, rep: Any, make_lead: MakeLead, request: Any
) -> None:
    lead = make_lead(rep)
    actor = request.getfixturevalue(viewer)

    found = selectors.lead_list(actor=actor).filter(pk=lead.pk).exists()

    assert found is visible
    if not visible:
        with pytest.raises(Http404):
            selectors.lead_get(actor=actor, pk=lead.pk)


def test_a_rep_cannot_edit_a_teammates_lead(rep: Any, teammate: Any, make_lead: MakeLead) -> None:
    lead = make_lead(teammate, "Ann")

    with pytest.raises(PermissionDenied):
        services.lead_update(actor=rep, lead=lead, values={"name": "Bob"}, version=None)

    assert Lead.objects.get(pk=lead.pk).name == "Ann"


def test_assignment_rules_need_the_sales_admin_permission(rep: Any, teams: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        assignment.assignment_rule_save(
            actor=rep,
            values={"name": "x", "team": teams["east"], "method": "round_robin"},
            member_ids=[rep.pk],
        )

    assert not AssignmentRule.objects.exists()


def test_a_region_rule_without_a_region_is_refused(admin_user: Any, teams: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as refused:
        assignment.assignment_rule_save(
            actor=admin_user,
            values={"name": "x", "team": teams["east"], "method": "region", "region": ""},
            member_ids=[],
        )

    assert refused.value.field == "region"
    assert not AssignmentRule.objects.exists()

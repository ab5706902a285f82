"""Creating many leads at once (`leads_bulk_create`, the import's path): the same owners,
flags, scores and intents as one by one, a query count that does not grow with the rows,
fair round robin, duplicates within the batch, and one notification per owner."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from guanxi.activities.models import Notification
from guanxi.customers.models import Industry
from guanxi.customers.services import contact_create
from guanxi.leads import scoring, services
from guanxi.leads.models import (
    AssignmentMethod,
    AssignmentRule,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadSource,
)

pytestmark = pytest.mark.django_db


def _rule(team: Any, method: str, members: list[Any], **extra: Any) -> AssignmentRule:
    rule = AssignmentRule.objects.create(name=method, team=team, method=method, **extra)
    rule.members.set(members)
    return rule


def _rows(industry: Industry) -> list[dict[str, Any]]:
    return [
        {"name": "王小明", "company": "明光茶业", "title": "采购经理", "phone": "13800138001"},
        {"name": "Li Lei", "phone": "139 0000 1111", "region": "浙江"},
        {"name": "Zoe Z", "email": "ZOE@acme.cn", "title": "Director"},
        {"name": "New Person", "company": "ACME Trading Ltd", "size_band": "large"},
        {"name": "ADA", "company": "Analytical Engines", "industry": industry},
        {"name": "Ann", "email": "ann@example.com", "region": "浙江"},
        {"name": "Ann B", "email": "ann@example.com", "title": "总经理"},
        {"name": "Bob", "company": "Bob Co", "region": "上海"},
        {"name": "bob", "company": "Bob Co", "size_band": "huge"},
        {"name": "Carl", "phone": "13800138001", "industry": industry},
        {"name": "Dee", "company": "Dee Ltd", "region": "浙江"},
        {"name": "Eve", "company": "Eve Ltd"},
        {"name": "Fay", "company": "Fay Ltd", "title": "manager"},
    ]


def _outcome(leads: list[Lead], existing: Lead) -> list[tuple[Any, ...]]:
    """What each lead became, with duplicates named by row position (or "existing")."""
    positions = {lead.pk: index for index, lead in enumerate(leads)}
    positions[existing.pk] = "existing"
    stored = Lead.objects.in_bulk([lead.pk for lead in leads])
    result = []
    for lead in leads:
        row = stored[lead.pk]
        kinds = sorted(LeadEvent.objects.filter(lead=row).values_list("kind", flat=True))
        result.append(
            (
                row.owner_id,
                row.team_id,
                row.matched_customer_id,
                positions.get(row.duplicate_of_id or 0),
                row.score,
                row.intent,
                [item["label"] for item in row.score_breakdown],
                kinds,
                sorted(row.history.values_list("history_type", "history_change_reason")),
            )
        )
    return result


@pytest.mark.parametrize("catch_all", [AssignmentMethod.ROUND_ROBIN, AssignmentMethod.WORKLOAD])
def test_a_bulk_batch_gives_the_same_owners_flags_scores_and_intents_as_one_by_one(
    catch_all: str,
    manager: Any,
    rep: Any,
    make_user: Any,
    teams: dict[str, Any],
    make_customer: Callable[..., Any],
    make_lead: Callable[..., Any],
) -> None:
    industry = Industry.objects.order_by("pk").first()
    assert industry is not None
    scoring.scoring_rules_seed()
    li_lei = make_customer(rep, "李雷", phone="13900001111")
    company = make_customer(rep, "Acme Trading Co., Ltd.", kind="enterprise")
    contact_create(actor=rep, customer=company, values={"name": "Zoe"}, emails=["zoe@acme.cn"])
    existing = make_lead(rep, "Ada", company="Analytical Engines")
    members = [make_user("sales-rep", teams["east"]) for _ in range(3)]
    _rule(teams["east"], AssignmentMethod.REGION, [members[0]], region="浙江", position=0)
    _rule(teams["east"], AssignmentMethod.INDUSTRY, members[1:], industry=industry, position=1)
    catch_all_rule = _rule(teams["east"], catch_all, members, position=2)
    make_lead(members[2], "Busy")  # one open lead more for the workload rule to weigh

    with transaction.atomic():
        one_by_one = [
            services._create_lead(
                actor=manager,
                values={**values, "source": LeadSource.IMPORT},
                source=LeadSource.IMPORT,
                team=manager.team,
            )
            for values in _rows(industry)
        ]
    single = _outcome(one_by_one, existing)
    Lead.objects.filter(pk__in=[lead.pk for lead in one_by_one]).delete()
    AssignmentRule.objects.update(last_user=None)
    bulk = _outcome(services.leads_bulk_create(actor=manager, rows=_rows(industry)), existing)

    assert bulk == single
    assert [row[3] for row in bulk] == [
        None, None, None, None, "existing", None, 5, None, 7, 0, None, None, None
    ]  # fmt: skip
    assert [row[2] for row in bulk[1:4]] == [li_lei.pk, company.pk, company.pk]
    assert AssignmentRule.objects.get(pk=catch_all_rule.pk).last_user_id is not None


def test_the_queries_of_a_bulk_batch_do_not_grow_with_its_rows(
    manager: Any, rep: Any, make_user: Any, teams: dict[str, Any], make_customer: Any
) -> None:
    scoring.scoring_rules_seed()
    scoring.lead_settings()  # created on first use: not part of a batch's work
    make_customer(rep, "李雷", phone="13900001111")
    members = [make_user("sales-rep", teams["east"]) for _ in range(3)]
    _rule(teams["east"], AssignmentMethod.REGION, [members[0]], region="浙江", position=0)
    _rule(teams["east"], AssignmentMethod.WORKLOAD, members[1:], position=1)
    _rule(teams["east"], AssignmentMethod.ROUND_ROBIN, members, position=2)

    def rows(n: int, start: int) -> list[dict[str, Any]]:
        return [
            {
                "name": f"L{start + i}",
                "company": f"Company {start + i % 7}",
                "phone": f"1380000{start + i:04d}",
                "email": f"l{start + i}@example.cn",
                "region": "浙江" if i % 3 == 0 else "",
            }
            for i in range(n)
        ]

    with CaptureQueriesContext(connection) as small:
        services.leads_bulk_create(actor=manager, rows=rows(10, 0))
    with CaptureQueriesContext(connection) as large:
        services.leads_bulk_create(actor=manager, rows=rows(200, 1000))

    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(small.captured_queries) <= 22
    assert Lead.objects.count() == 210


def test_round_robin_over_a_bulk_batch_is_fair_and_moves_its_cursor_once(
    manager: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    members = [make_user("sales-rep", teams["east"]) for _ in range(3)]
    rule = _rule(teams["east"], AssignmentMethod.ROUND_ROBIN, members)

    with CaptureQueriesContext(connection) as queries:
        leads = services.leads_bulk_create(
            actor=manager, rows=[{"name": f"L{i}"} for i in range(10)]
        )
    cursor = AssignmentRule.objects.get(pk=rule.pk).last_user
    following = services.lead_create(actor=manager, values={"name": "Next"}, auto_assign=True)

    owners = [lead.owner for lead in leads]
    assert owners[:6] == [*members, *members]
    assert sorted(Counter(owner.pk for owner in owners if owner).values()) == [3, 3, 4]
    updates = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("UPDATE") and AssignmentRule._meta.db_table in query["sql"]
    ]
    assert len(updates) == 1
    assert cursor == members[0]
    assert following.owner == members[1]


def test_a_row_repeating_an_earlier_one_is_a_duplicate_of_it_and_a_customer_match_flagged(
    manager: Any, rep: Any, make_customer: Any
) -> None:
    customer = make_customer(rep, "赵六", phone="13900139002")

    first, second, third = services.leads_bulk_create(
        actor=manager,
        rows=[
            {"name": "Ann", "email": "ann@example.com"},
            {"name": "Ann B", "email": "ANN@example.com"},
            {"name": "赵六", "phone": "13900139002"},
        ],
    )

    stored = Lead.objects.in_bulk([first.pk, second.pk, third.pk])
    assert (stored[first.pk].duplicate_of, stored[second.pk].duplicate_of) == (None, first)
    assert stored[third.pk].matched_customer == customer
    assert list(
        LeadEvent.objects.filter(kind=LeadEventKind.DUPLICATE).values_list("lead", "detail")
    ) == [(second.pk, f"Matches lead #{first.pk}"), (third.pk, "Matches existing customer 赵六")]


def test_each_owner_gets_one_notification_for_a_bulk_batch_and_every_lead_is_announced(
    manager: Any,
    make_user: Any,
    teams: dict[str, Any],
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    members = [make_user("sales-rep", teams["east"]) for _ in range(2)]
    _rule(teams["east"], AssignmentMethod.ROUND_ROBIN, members)

    with django_capture_on_commit_callbacks(execute=True):
        leads = services.leads_bulk_create(
            actor=manager, rows=[{"name": f"L{i}"} for i in range(5)]
        )
    with django_capture_on_commit_callbacks(execute=True):
        alone = services.leads_bulk_create(actor=manager, rows=[{"name": "Solo"}])[0]

    titles = sorted(Notification.objects.values_list("user", "title"))
    assert titles == sorted(
        [
            (members[0].pk, "3 new leads assigned to you"),
            (members[1].pk, "2 new leads assigned to you"),
            (members[1].pk, "New lead assigned to you: Solo"),
        ]
    )
    assert [name for name, _payload in published].count("lead.created") == 6
    assert ("lead.assigned", {"lead_id": alone.pk, "owner_id": members[1].pk}) in published
    assert {payload["lead_id"] for name, payload in published if name == "lead.assigned"} == {
        lead.pk for lead in [*leads, alone]
    }


def test_a_bulk_batch_with_a_bad_row_creates_nothing_and_names_the_row(manager: Any) -> None:
    from guanxi.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        services.leads_bulk_create(
            actor=manager, rows=[{"name": "Good"}, {"name": "Bad", "email": "nope"}]
        )

    assert refused.value.errors[0]["field"] == "rows.1.email"
    assert not Lead.objects.exists()


def test_a_user_without_sales_create_cannot_create_leads_in_bulk(
    make_user: Any, teams: dict[str, Any]
) -> None:
    from django.core.exceptions import PermissionDenied

    marketer = make_user("marketer", teams["east"])

    with pytest.raises(PermissionDenied):
        services.leads_bulk_create(actor=marketer, rows=[{"name": "X"}])

    assert not Lead.objects.exists()

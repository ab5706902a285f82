"""Reads of grading: schemes, a customer's grades with their explanations, history,
follow-ups, notifications and the reports."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language

from guanxi.accounts.models import User
from guanxi.core.permissions import has_perm
from guanxi.customers.models import Customer
from guanxi.grading.metrics import CATALOGUE
from guanxi.grading.models import (
    CustomerGrade,
    CustomerMetrics,
    EvaluationRun,
    FollowUp,
    FollowUpStatus,
    GradeChange,
    Notification,
    Scheme,
    Tier,
    TierSnapshot,
)
from guanxi.grading.presets import PRESETS, kotler_level


def scheme_list(*, actor: User) -> QuerySet[Scheme]:
    if not has_perm(actor, "grading.view"):
        return Scheme.objects.none()
    return Scheme.objects.prefetch_related("tiers").order_by("-is_primary", "pk")


def scheme_get(*, actor: User, pk: int) -> Scheme:
    found = scheme_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def tier_get(*, scheme: Scheme, pk: int) -> Tier:
    found = scheme.tiers.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def run_get(*, actor: User, pk: int) -> EvaluationRun:
    found = EvaluationRun.objects.filter(pk=pk).select_related("scheme").first()
    if found is None or not has_perm(actor, "grading.view"):
        raise Http404
    return found


def presets_available() -> list[dict[str, Any]]:
    installed = set(Scheme.objects.values_list("code", flat=True))
    return [
        {
            "code": spec.code,
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "description": spec.description,
            "method": spec.method,
            "installed": code in installed,
        }
        for code, spec in PRESETS.items()
    ]


def explain(grade: CustomerGrade, language: str | None = None) -> dict[str, Any]:
    """The rule that placed the customer and the metric values it read, ready to show."""
    language = language or get_language() or "en"
    try:
        values = json.loads(grade.explanation or "{}")
    except ValueError:
        values = {}
    readings = []
    for name, value in values.items():
        metric = CATALOGUE.get(name)
        readings.append(
            {
                "name": name,
                "label": str(metric.label) if metric else name,
                "value": value,
                "unit": str(metric.unit) if metric else "",
            }
        )
    tier = grade.rule_tier
    return {
        "tier": grade.tier,
        "rule_tier": tier,
        "condition": tier.condition if tier else "",
        "fallback": bool(tier and tier.is_fallback),
        "score": grade.score,
        "readings": readings,
        "overridden": grade.override_tier_id is not None,
        "override_reason": grade.override_reason,
        "override_by": grade.override_by,
        "override_expires_at": grade.override_expires_at,
        "evaluated_at": grade.evaluated_at,
        "language": language,
    }


def customer_grades(*, actor: User, customer: Customer) -> list[dict[str, Any]]:
    """Every scheme's grade of a visible customer, with explanations, primary scheme first."""
    if not has_perm(actor, "grading.view") and not has_perm(actor, "customers.view"):
        return []
    grades = (
        CustomerGrade.objects.filter(customer=customer, scheme__is_active=True)
        .select_related("scheme", "tier", "rule_tier", "override_by")
        .order_by("-scheme__is_primary", "scheme_id")
    )
    return [{"grade": grade, "scheme": grade.scheme, **explain(grade)} for grade in grades]


def customer_grade_history(*, customer: Customer, limit: int = 50) -> QuerySet[GradeChange]:
    return (
        GradeChange.objects.filter(customer=customer)
        .select_related("scheme", "from_tier", "to_tier", "actor")
        .order_by("-changed_at", "-pk")[:limit]
    )


def service_policy(*, customer_id: int) -> Tier | None:
    """The tier of the primary scheme that governs how this customer is served."""
    grade = (
        CustomerGrade.objects.filter(
            customer_id=customer_id, scheme__is_primary=True, scheme__is_active=True
        )
        .select_related("tier")
        .first()
    )
    return grade.tier if grade else None


def follow_up_list(
    *,
    actor: User,
    owner_id: int | None = None,
    overdue_only: bool = False,
    today: dt.date | None = None,
) -> QuerySet[FollowUp]:
    """Open follow-ups the actor may see (their own, or their team's for a manager)."""
    if not has_perm(actor, "customers.view"):
        return FollowUp.objects.none()
    qs = FollowUp.objects.visible_to(actor).filter(status=FollowUpStatus.OPEN)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if overdue_only:
        qs = qs.filter(due_on__lte=today or timezone.localdate())
    return qs.select_related("customer", "owner", "tier").order_by("due_on", "pk")


def follow_up_get(*, actor: User, pk: int) -> FollowUp:
    found = FollowUp.objects.visible_to(actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def notification_list(*, actor: User, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related(
        "customer", "change", "change__from_tier", "change__to_tier", "change__scheme"
    ).order_by("-created_at", "-pk")


def distribution_over_time(*, scheme: Scheme, limit: int = 60) -> list[dict[str, Any]]:
    """Customers per tier after each of the latest evaluations, oldest first."""
    stamps = list(
        TierSnapshot.objects.filter(scheme=scheme)
        .values_list("taken_at", flat=True)
        .distinct()
        .order_by("-taken_at")[:limit]
    )
    rows = TierSnapshot.objects.filter(scheme=scheme, taken_at__in=stamps).order_by("taken_at")
    series: dict[Any, dict[int | None, int]] = {}
    for row in rows:
        series.setdefault(row.taken_at, {})[row.tier_id] = row.customers
    return [{"taken_at": stamp, "counts": counts} for stamp, counts in series.items()]


def migration_between(
    *, scheme: Scheme, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """How many customers moved from each tier at `start` to each tier at `end`.

    A customer's tier at a moment is the `to` of their newest history row before it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.to_tier_id, b.to_tier_id, COUNT(*) FROM
                (SELECT customer_id, to_tier_id FROM grading_gradechange ch
                 WHERE scheme_id = %s AND changed_at <= %s AND NOT EXISTS (
                    SELECT 1 FROM grading_gradechange later WHERE later.scheme_id = ch.scheme_id
                    AND later.customer_id = ch.customer_id AND later.changed_at <= %s
                    AND (later.changed_at > ch.changed_at
                         OR (later.changed_at = ch.changed_at AND later.id > ch.id)))) a
            JOIN
                (SELECT customer_id, to_tier_id FROM grading_gradechange ch
                 WHERE scheme_id = %s AND changed_at <= %s AND NOT EXISTS (
                    SELECT 1 FROM grading_gradechange later WHERE later.scheme_id = ch.scheme_id
                    AND later.customer_id = ch.customer_id AND later.changed_at <= %s
                    AND (later.changed_at > ch.changed_at
                         OR (later.changed_at = ch.changed_at AND later.id > ch.id)))) b
            ON a.customer_id = b.customer_id
            GROUP BY a.to_tier_id, b.to_tier_id""",
            [scheme.pk, start, start, scheme.pk, end, end],
        )
        return [
            {"from": row[0], "to": row[1], "customers": int(row[2])} for row in cursor.fetchall()
        ]


def effort_and_value(*, scheme: Scheme) -> list[dict[str, Any]]:
    """Per tier: share of customers, revenue, margin and interactions (effort), so a manager
    sees whether time goes where value is. One grouped query."""
    rows = list(
        CustomerGrade.objects.filter(scheme=scheme)
        .values("tier_id")
        .annotate(
            customers=Count("pk"),
            revenue=Sum("customer__metrics__revenue_12m"),
            margin=Sum("customer__metrics__margin_12m"),
            interactions=Sum("customer__metrics__interactions_90d"),
        )
    )
    totals = {
        key: sum(float(row[key] or 0) for row in rows)
        for key in ("customers", "revenue", "margin", "interactions")
    }
    tiers = {tier.pk: tier for tier in scheme.tiers.all()}
    result = []
    for row in sorted(
        rows, key=lambda r: tiers[r["tier_id"]].rank if r["tier_id"] in tiers else 99
    ):
        shares = {
            f"{key}_share": (float(row[key] or 0) / totals[key] * 100 if totals[key] else 0.0)
            for key in totals
        }
        result.append(
            {
                "tier": tiers.get(row["tier_id"]),
                **row,
                **shares,
                "kotler": kotler_level(
                    int(row["customers"]),
                    shares["margin_share"] / 100,
                    total_customers=int(totals["customers"]),
                ),
            }
        )
    return result


def metrics_of(*, customer: Customer) -> CustomerMetrics | None:
    return CustomerMetrics.objects.filter(customer=customer).first()


def overdue_counts_by_owner(*, actor: User, today: dt.date) -> list[dict[str, Any]]:
    """For a manager: open and overdue follow-ups per owner within their scope."""
    return list(
        follow_up_list(actor=actor)
        .values("owner_id", "owner__username", "owner__display_name")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lte=today)))
        .order_by("-overdue")
    )


def run_list(*, actor: User, scheme: Scheme, limit: int = 10) -> list[EvaluationRun]:
    """The scheme's latest evaluations and previews, newest first; none without grading.view."""
    if not has_perm(actor, "grading.view"):
        return []
    return list(
        EvaluationRun.objects.filter(scheme=scheme)
        .select_related("triggered_by")
        .order_by("-pk")[:limit]
    )


def tiers_by_scheme(*, scheme_ids: list[int]) -> dict[int, list[Tier]]:
    """Each scheme's tiers in rank order, in one query (for a page showing several schemes)."""
    found: dict[int, list[Tier]] = {pk: [] for pk in scheme_ids}
    for tier in Tier.objects.filter(scheme_id__in=scheme_ids).order_by("scheme_id", "rank", "pk"):
        found[tier.scheme_id].append(tier)
    return found

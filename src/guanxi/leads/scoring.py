"""Lead score from rule points: profile facts count fully, each behaviour counts with a
weight that halves every `half_life_days` since it happened. The breakdown lists each rule
that matched with its points, so the score is explainable; the intent level follows the
score thresholds unless someone set it by hand."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.leads.models import (
    BEHAVIOUR_KINDS,
    OPEN_STATUSES,
    IntentLevel,
    Lead,
    LeadEvent,
    LeadEventKind,
    LeadSettings,
    ScoringFactor,
    ScoringRule,
)

DEFAULT_RULES = (
    (ScoringFactor.TITLE, "总", 15),
    (ScoringFactor.TITLE, "director", 15),
    (ScoringFactor.TITLE, "经理", 10),
    (ScoringFactor.TITLE, "manager", 10),
    (ScoringFactor.SIZE_BAND, "large", 20),
    (ScoringFactor.SIZE_BAND, "huge", 25),
    (ScoringFactor.SIZE_BAND, "medium", 10),
    (ScoringFactor.SOURCE, "web_form", 5),
    (ScoringFactor.SOURCE, "referral", 10),
    (ScoringFactor.EVENT, LeadEventKind.OPENED_EMAIL, 3),
    (ScoringFactor.EVENT, LeadEventKind.VISITED, 5),
    (ScoringFactor.EVENT, LeadEventKind.REPLIED, 15),
    (ScoringFactor.EVENT, LeadEventKind.FILLED_FORM, 10),
    (ScoringFactor.EVENT, LeadEventKind.CALLED, 8),
)


def lead_settings() -> LeadSettings:
    found, _created = LeadSettings.objects.get_or_create(pk=1)
    return found


def decay(age_days: float, half_life_days: int) -> float:
    """The weight of something that happened `age_days` ago: 1 now, ½ after a half-life."""
    if half_life_days <= 0:
        return 1.0
    return float(math.pow(0.5, max(age_days, 0.0) / half_life_days))


def intent_for(score: int, config: LeadSettings) -> str:
    if score >= config.intent_s:
        return IntentLevel.S
    if score >= config.intent_a:
        return IntentLevel.A
    if score >= config.intent_b:
        return IntentLevel.B
    return IntentLevel.C


def _profile_matches(rule: ScoringRule, lead: Lead) -> bool:
    value = rule.value.strip().casefold()
    if rule.factor == ScoringFactor.TITLE:
        return bool(value) and value in lead.title.casefold()
    if rule.factor == ScoringFactor.SIZE_BAND:
        return value == lead.size_band
    if rule.factor == ScoringFactor.INDUSTRY:
        return lead.industry is not None and value == lead.industry.code.casefold()
    if rule.factor == ScoringFactor.SOURCE:
        return value == lead.source
    return False


def score_of(
    lead: Lead,
    *,
    rules: list[ScoringRule],
    events: list[tuple[str, datetime]],
    config: LeadSettings,
    now: datetime | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """The score and its breakdown, from rules and (kind, when) behaviour events; pure."""
    now = now or timezone.now()
    breakdown: list[dict[str, Any]] = [
        {
            "rule": rule.pk,
            "label": f"{rule.get_factor_display()} {rule.value}",
            "kind": "profile",
            "points": float(rule.points),
            "count": 1,
        }
        for rule in rules
        if rule.factor != ScoringFactor.EVENT and _profile_matches(rule, lead)
    ]
    by_kind: dict[str, list[datetime]] = {}
    for kind, when in events:
        by_kind.setdefault(kind, []).append(when)
    labels = dict(LeadEventKind.choices)
    for rule in rules:
        if rule.factor != ScoringFactor.EVENT or rule.value not in by_kind:
            continue
        moments = by_kind[rule.value]
        points = sum(
            rule.points * decay((now - when).total_seconds() / 86400, config.half_life_days)
            for when in moments
        )
        breakdown.append(
            {
                "rule": rule.pk,
                "label": f"{rule.get_factor_display()}: {labels.get(rule.value, rule.value)}",
                "kind": "behaviour",
                "points": round(points, 1),
                "count": len(moments),
            }
        )
    total = round(sum(item["points"] for item in breakdown))
    return max(total, 0), breakdown


def _active_rules() -> list[ScoringRule]:
    return list(ScoringRule.objects.filter(is_active=True).order_by("factor", "pk"))


def lead_score_refresh(lead: Lead) -> Lead:
    """Recompute one lead's score, breakdown and (unless set by hand) intent level."""
    config = lead_settings()
    events = list(
        LeadEvent.objects.filter(lead=lead, kind__in=BEHAVIOUR_KINDS).values_list(
            "kind", "occurred_at"
        )
    )
    lead.score, lead.score_breakdown = score_of(
        lead, rules=_active_rules(), events=events, config=config
    )
    # The caller's copy may predate a hand-set intent: the stored flag decides.
    lead.intent_by_hand = bool(
        Lead.objects.filter(pk=lead.pk).values_list("intent_by_hand", flat=True).first()
    )
    if not lead.intent_by_hand:
        lead.intent = intent_for(lead.score, config)
    lead.scored_at = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(
        score=lead.score,
        score_breakdown=lead.score_breakdown,
        scored_at=lead.scored_at,
        **({} if lead.intent_by_hand else {"intent": lead.intent}),
    )
    return lead


def leads_rescore(*, batch_size: int = 1000) -> int:
    """Recompute the scores of every open lead (decay moves them daily), in pk batches.

    Reads each batch's events in one query and writes it with one bulk update.
    """
    config = lead_settings()
    rules = _active_rules()
    now = timezone.now()
    last = 0
    done = 0
    while True:
        batch = list(
            Lead.objects.filter(status__in=OPEN_STATUSES, pk__gt=last)
            .select_related("industry")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return done
        events: dict[int, list[tuple[str, datetime]]] = {}
        for lead_id, kind, when in LeadEvent.objects.filter(
            lead__in=batch, kind__in=BEHAVIOUR_KINDS
        ).values_list("lead_id", "kind", "occurred_at"):
            events.setdefault(lead_id, []).append((kind, when))
        for lead in batch:
            lead.score, lead.score_breakdown = score_of(
                lead, rules=rules, events=events.get(lead.pk, []), config=config, now=now
            )
            if not lead.intent_by_hand:
                lead.intent = intent_for(lead.score, config)
            lead.scored_at = now
        with transaction.atomic():
            Lead.objects.bulk_update(
                batch, ["score", "score_breakdown", "intent", "scored_at"], batch_size=500
            )
        done += len(batch)
        last = batch[-1].pk


def scoring_rules_seed() -> int:
    """Create the default rules when there are none; returns how many were created."""
    if ScoringRule.objects.exists():
        return 0
    ScoringRule.objects.bulk_create(
        [ScoringRule(factor=f, value=v, points=p) for f, v, p in DEFAULT_RULES]
    )
    return len(DEFAULT_RULES)


@transaction.atomic
def scoring_rule_save(
    *, actor: User, factor: str, value: str, points: int, rule: ScoringRule | None = None
) -> ScoringRule:
    """Add or change a scoring rule (sales.admin)."""
    require_perm(actor, "sales.admin")
    if factor not in ScoringFactor.values:
        raise DomainError(_("Choose one of the allowed values."), field="factor")
    if not value.strip():
        raise DomainError(_("This field is required."), field="value")
    if factor == ScoringFactor.EVENT and value not in BEHAVIOUR_KINDS:
        raise DomainError(_("Choose one of the allowed values."), field="value")
    if not -100 <= points <= 100:
        raise DomainError(_("Points must be between -100 and 100."), field="points")
    rule = rule or ScoringRule()
    rule.factor, rule.value, rule.points = factor, value.strip(), points
    rule.save()
    return rule


@transaction.atomic
def lead_settings_save(
    *, actor: User, half_life_days: int, intent_s: int, intent_a: int, intent_b: int
) -> LeadSettings:
    """Change the decay half-life and the intent thresholds (S ≥ A ≥ B; sales.admin)."""
    require_perm(actor, "sales.admin")
    if not intent_s >= intent_a >= intent_b:
        raise DomainError(_("The thresholds must fall from S to A to B."), field="intent_a")
    if half_life_days < 1:
        raise DomainError(_("The half-life must be at least one day."), field="half_life_days")
    config = lead_settings()
    config.half_life_days = half_life_days
    config.intent_s, config.intent_a, config.intent_b = intent_s, intent_a, intent_b
    config.save()
    return config


def event_counts(lead: Lead) -> Counter[str]:
    return Counter(
        LeadEvent.objects.filter(lead=lead, kind__in=BEHAVIOUR_KINDS).values_list("kind", flat=True)
    )

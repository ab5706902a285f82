"""The optional lead model: a logistic regression (scikit-learn) trained on past converted
and disqualified leads, offered only when there is enough history of each outcome. It is
stored as plain coefficients, so scoring a lead is a dot product with no pickle to load;
the top factors of a lead are the features that pushed its probability most."""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.leads.models import BEHAVIOUR_KINDS, Lead, LeadEvent, LeadModel, LeadStatus

MIN_PER_OUTCOME = 50
FEATURE_LABELS_SEPARATOR = "="


def history_counts() -> dict[str, int]:
    return {
        "converted": Lead.objects.filter(status=LeadStatus.CONVERTED).count(),
        "disqualified": Lead.objects.filter(status=LeadStatus.DISQUALIFIED).count(),
    }


def model_offered() -> bool:
    """Whether enough history exists to train (MIN_PER_OUTCOME of each outcome)."""
    counts = history_counts()
    return min(counts.values()) >= MIN_PER_OUTCOME


def _features(lead: Lead, event_counts: dict[str, int]) -> dict[str, float]:
    features: dict[str, float] = {
        f"source={lead.source}": 1.0,
        f"size={lead.size_band or '-'}": 1.0,
        f"industry={lead.industry.code if lead.industry else '-'}": 1.0,
        "has_company": 1.0 if lead.company else 0.0,
        "has_title": 1.0 if lead.title else 0.0,
        "has_phone": 1.0 if lead.phone_index else 0.0,
        "has_email": 1.0 if lead.email_index else 0.0,
    }
    for kind in BEHAVIOUR_KINDS:
        features[f"event={kind}"] = math.log1p(event_counts.get(kind, 0))
    return features


def _event_counts(lead_ids: list[int]) -> dict[int, dict[str, int]]:
    from django.db.models import Count

    counts: dict[int, dict[str, int]] = {}
    for start in range(0, len(lead_ids), 500):
        rows = (
            LeadEvent.objects.filter(lead_id__in=lead_ids[start : start + 500])
            .filter(kind__in=BEHAVIOUR_KINDS)
            .values("lead_id", "kind")
            .annotate(n=Count("pk"))
            .values_list("lead_id", "kind", "n")
        )
        for lead_id, kind, n in rows:
            counts.setdefault(lead_id, {})[kind] = n
    return counts


@transaction.atomic
def lead_model_train(*, actor: User | None, random_state: int = 7) -> LeadModel:
    """Train on closed leads, validate on a held-out quarter (AUC), store and activate."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    if actor is not None:
        require_perm(actor, "sales.admin")
    counts = history_counts()
    if min(counts.values()) < MIN_PER_OUTCOME:
        raise DomainError(
            _(
                "Training needs at least %(n)s converted and %(n)s disqualified leads; "
                "there are %(c)s and %(d)s."
            )
            % {"n": MIN_PER_OUTCOME, "c": counts["converted"], "d": counts["disqualified"]}
        )
    leads = list(
        Lead.objects.filter(status__in=(LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED))
        .select_related("industry")
        .order_by("pk")
    )
    events = _event_counts([lead.pk for lead in leads])
    rows = [_features(lead, events.get(lead.pk, {})) for lead in leads]
    names = sorted({name for row in rows for name in row})
    matrix = np.array([[row.get(name, 0.0) for name in names] for row in rows])
    target = np.array([1 if lead.status == LeadStatus.CONVERTED else 0 for lead in leads])
    x_train, x_test, y_train, y_test = train_test_split(
        matrix, target, test_size=0.25, stratify=target, random_state=random_state
    )
    classifier = LogisticRegression(max_iter=1000, C=1.0)
    classifier.fit(x_train, y_train)
    auc = float(roc_auc_score(y_test, classifier.predict_proba(x_test)[:, 1]))
    classifier.fit(matrix, target)
    LeadModel.objects.filter(is_active=True).update(is_active=False)
    return LeadModel.objects.create(
        trained_by=actor,
        converted_count=counts["converted"],
        disqualified_count=counts["disqualified"],
        auc=round(auc, 4),
        features=names,
        coefficients=[round(float(value), 6) for value in classifier.coef_[0]],
        intercept=float(classifier.intercept_[0]),
    )


def active_model() -> LeadModel | None:
    return LeadModel.objects.filter(is_active=True).first()


def model_explain(model: LeadModel, lead: Lead, *, top: int = 5) -> dict[str, Any]:
    """The model's probability (0–100) for a lead and the factors that moved it most."""
    counts = _event_counts([lead.pk]).get(lead.pk, {})
    values = _features(lead, counts)
    contributions = [
        (name, weight * values.get(name, 0.0))
        for name, weight in zip(model.features, model.coefficients, strict=True)
    ]
    logit = model.intercept + sum(value for _name, value in contributions)
    probability = 1 / (1 + math.exp(-max(min(logit, 50.0), -50.0)))
    factors = sorted(
        (item for item in contributions if item[1] != 0), key=lambda item: -abs(item[1])
    )[:top]
    return {
        "score": round(probability * 100),
        "auc": model.auc,
        "factors": [{"feature": name, "effect": round(value, 3)} for name, value in factors],
    }

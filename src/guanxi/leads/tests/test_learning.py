"""The optional lead model: offered only with enough history, validated by AUC, explained."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.errors import DomainError
from guanxi.leads import learning
from guanxi.leads.models import Lead, LeadEvent, LeadEventKind, LeadModel, LeadStatus


def _history(owner: Any, converted: int, disqualified: int) -> None:
    """Closed leads where large companies that replied tended to convert."""
    leads = [
        Lead(
            name=f"C{i}",
            size_band="large" if i % 5 else "small",
            status=LeadStatus.CONVERTED,
            owner=owner,
            team=owner.team,
        )
        for i in range(converted)
    ] + [
        Lead(
            name=f"D{i}",
            size_band="small" if i % 5 else "large",
            status=LeadStatus.DISQUALIFIED,
            owner=owner,
            team=owner.team,
        )
        for i in range(disqualified)
    ]
    Lead.objects.bulk_create(leads)
    from django.utils import timezone

    LeadEvent.objects.bulk_create(
        [
            LeadEvent(lead=lead, kind=LeadEventKind.REPLIED, occurred_at=timezone.now())
            for lead in leads
            if lead.status == LeadStatus.CONVERTED
        ]
    )


def test_the_model_is_not_offered_and_refuses_to_train_with_too_little_history(
    rep: Any, admin_user: Any
) -> None:
    _history(rep, 60, 49)

    with pytest.raises(DomainError):
        learning.lead_model_train(actor=admin_user)

    assert learning.model_offered() is False
    assert not LeadModel.objects.exists()


def test_the_model_trains_on_enough_history_and_explains_a_leads_score(
    rep: Any, admin_user: Any, make_lead: Any
) -> None:
    _history(rep, 60, 60)
    assert learning.model_offered() is True

    model = learning.lead_model_train(actor=admin_user)
    likely = make_lead(rep, "Likely", size_band="large", company="X")
    LeadEvent.objects.create(lead=likely, kind=LeadEventKind.REPLIED, occurred_at=likely.created_at)
    unlikely = make_lead(rep, "Unlikely", size_band="small", company="Y")

    good = learning.model_explain(model, likely)
    poor = learning.model_explain(model, unlikely)

    assert 0.5 < model.auc <= 1.0
    assert (model.converted_count, model.disqualified_count) == (60, 60)
    assert good["score"] > 50 > poor["score"]
    assert good["factors"][0]["feature"] in {"event=replied", "size=large"}


def test_training_needs_the_sales_admin_permission(rep: Any) -> None:
    from django.core.exceptions import PermissionDenied

    _history(rep, 50, 50)

    with pytest.raises(PermissionDenied):
        learning.lead_model_train(actor=rep)

    assert not LeadModel.objects.exists()

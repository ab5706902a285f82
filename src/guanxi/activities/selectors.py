"""Queries of activities, always scoped to the acting user."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.accounts.models import User
from guanxi.activities.models import Task


def task_list_base(*, actor: User) -> QuerySet[Task]:
    """Tasks the actor may see: their own, plus their role's owner/team scope."""
    return Task.objects.visible_to(actor)

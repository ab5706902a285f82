"""Callbacks (回访): a follow-up call after a resolved ticket, or on a tier's schedule, given
to an agent as a task (activities' `task_create`); its outcome goes on the customer's
timeline (interactions' `interaction_log`)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.activities.selectors import task_get
from guanxi.activities.services import task_complete, task_create
from guanxi.core import events
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.grading.models import CustomerGrade
from guanxi.interactions.services import interaction_log
from guanxi.service.models import (
    AgentMembership,
    Callback,
    CallbackOutcome,
    CallbackSchedule,
    CallbackStatus,
    Ticket,
)

logger = logging.getLogger(__name__)
SCHEDULE_BATCH = 500


def _delay() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "SERVICE_CALLBACK_DAYS", 2)))


def _give_task(callback: Callback, agent: User) -> None:
    task = task_create(
        actor=None,
        owner=agent,
        title=_("Callback: %(customer)s") % {"customer": callback.customer.name},
        due_at=callback.due_at,
        customer=callback.customer,
        related=callback,
        description=callback.reason,
        source="ticket",
    )
    Callback.objects.filter(pk=callback.pk).update(task_id=task.pk)
    callback.task_id = task.pk


@transaction.atomic
def callback_for_ticket(*, ticket_id: int) -> Callback | None:
    """After a ticket is resolved: one callback for its assignee (else its group's manager);
    none when the ticket already has one or nobody can take it."""
    ticket = Ticket.objects.select_related("customer", "assignee", "group__manager").get(
        pk=ticket_id
    )
    agent = ticket.assignee or (ticket.group.manager if ticket.group else None)
    if agent is None or Callback.objects.filter(ticket=ticket).exists():
        return None
    callback = Callback.objects.create(
        customer=ticket.customer,
        ticket=ticket,
        agent=agent,
        team_id=agent.team_id,
        due_at=timezone.now() + _delay(),
        reason=_("Ticket %(number)s resolved: %(subject)s")
        % {"number": ticket.number, "subject": ticket.subject},
    )
    _give_task(callback, agent)
    return callback


def _on_resolved(ticket_id: int, **_payload: object) -> None:
    callback_for_ticket(ticket_id=ticket_id)


events.subscribe("ticket.resolved", _on_resolved)


def callbacks_schedule(*, now: dt.datetime | None = None) -> int:
    """For each active schedule, customers of its tier class without a callback in the last
    `every_days` get one, spread over the group's agents in turn (up to a batch a run)."""
    now = now or timezone.now()
    made = 0
    for schedule in CallbackSchedule.objects.filter(is_active=True).select_related("group"):
        agents = list(
            AgentMembership.objects.filter(group=schedule.group, is_available=True)
            .select_related("user")
            .order_by(F("last_assigned_at").asc(nulls_first=True), "pk")
        )
        if not agents:
            continue
        recent = Callback.objects.filter(
            created_at__gte=now - dt.timedelta(days=schedule.every_days)
        ).values("customer_id")
        due = list(
            CustomerGrade.objects.filter(
                scheme__is_primary=True,
                scheme__is_active=True,
                tier__sla_class=schedule.sla_class,
            )
            .exclude(customer_id__in=recent)
            .select_related("customer")
            .order_by("customer_id")[:SCHEDULE_BATCH]
        )
        with transaction.atomic():
            callbacks = Callback.objects.bulk_create(
                Callback(
                    customer=grade.customer,
                    agent=agents[index % len(agents)].user,
                    team_id=agents[index % len(agents)].user.team_id,
                    due_at=now + dt.timedelta(days=1),
                    reason=_("Scheduled callback for %(tier)s customers")
                    % {"tier": schedule.sla_class},
                )
                for index, grade in enumerate(due)
            )
            for callback in callbacks:
                if callback.agent is not None:
                    _give_task(callback, callback.agent)
        made += len(callbacks)
    return made


@transaction.atomic
def callback_complete(
    *, actor: User, callback: Callback, outcome: str, notes: str = ""
) -> Callback:
    """Record the call's outcome on the customer's timeline and close the callback (and its
    task); an unsatisfied customer's ticket is reopened for another look."""
    require_perm(actor, "service.edit")
    if outcome not in CallbackOutcome.values:
        raise DomainError(_("Choose one of the allowed values."), field="outcome")
    callback = Callback.objects.select_for_update().get(pk=callback.pk)
    if callback.status != CallbackStatus.PENDING:
        raise DomainError(_("This callback is already done."), field="status")
    interaction = interaction_log(
        actor=actor,
        customer=callback.customer,
        values={
            "channel": "phone_call",
            "direction": "outbound",
            "summary": callback.reason[:500],
            "outcome": str(CallbackOutcome(outcome).label)[:200],
            "details": notes,
        },
    )
    callback.status = CallbackStatus.DONE
    callback.outcome = outcome
    callback.notes = notes
    callback.done_at = timezone.now()
    callback.interaction_id = interaction.pk
    callback.bump_version()
    callback.save()
    if callback.task_id is not None:
        try:
            task = task_get(actor=actor, pk=callback.task_id)
            if task.status == "open":
                task_complete(actor=None, task=task)
        except (Http404, DomainError):  # the task was removed or closed by hand
            logger.info("callback task %s was already closed", callback.task_id)
    return callback

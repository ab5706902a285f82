"""Forms of the activities pages; the rules live in the services, these only shape input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.activities.models import Priority, Status, Task
from guanxi.activities.selectors import DEFAULT_SORT, RELATED_TYPES, SORTS, TaskFilters
from guanxi.core.forms import StyledFormMixin


def _aware(day: dt.date, time: dt.time | None) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time or dt.time.min))


class TaskForm(StyledFormMixin, forms.Form):
    """A task: a due day with an optional time (no time: all day), and an optional reminder."""

    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Leave empty for an all-day task."),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    remind_at = forms.DateTimeField(
        label=_("Remind me at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, owners: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        if owners is None:
            del self.fields["owner"]
        else:
            assert isinstance(owner_field, forms.ModelChoiceField)  # noqa: S101  (narrowing)
            owner_field.queryset = owners

    @classmethod
    def initial_for(cls, task: Task) -> dict[str, Any]:
        due = timezone.localtime(task.due_at) if task.due_at else None
        return {
            "title": task.title,
            "due_date": due.date() if due else None,
            "due_time": None if task.all_day or due is None else due.time(),
            "priority": task.priority,
            "remind_at": timezone.localtime(task.remind_at) if task.remind_at else None,
            "owner": task.owner_id,
            "description": task.description,
            "customer": task.customer_id,
            "version": task.version,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("due_time") and not data.get("due_date"):
            self.add_error("due_date", _("Give the day as well as the time."))
        return data

    def values(self) -> dict[str, Any]:
        """The service's keyword arguments (due_at, all_day, remind_at, …)."""
        data = self.cleaned_data
        day, time = data.get("due_date"), data.get("due_time")
        values: dict[str, Any] = {
            "title": data["title"],
            "description": data.get("description") or "",
            "priority": data["priority"],
            "due_at": _aware(day, time) if day else None,
            "all_day": bool(day) and time is None,
            "remind_at": data.get("remind_at"),
        }
        if data.get("owner") is not None:
            values["owner"] = data["owner"]
        return values


class QuickAddForm(StyledFormMixin, forms.Form):
    """One line: a title and an optional day (today by default on "my day")."""

    title = forms.CharField(label=_("New task"), max_length=200)
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)


STATUS_CHOICES = [("", _("Any status")), *Status.choices]
DUE_CHOICES = [
    ("", _("Any time")),
    ("overdue", _("Overdue")),
    ("today", _("Today")),
    ("week", _("Next 7 days")),
    ("none", _("No due date")),
]
PRIORITY_CHOICES = [("", _("Any priority")), *Priority.choices]
RELATED_CHOICES = [
    ("", _("Anything")),
    ("customer", _("A customer")),
    ("leads.lead", _("A lead")),
    ("sales.opportunity", _("An opportunity")),
    ("service.ticket", _("A ticket")),
    ("none", _("Nothing")),
]
OWNER_CHOICES = [("me", _("Mine")), ("", _("Everyone I can see"))]
SORT_CHOICES = [
    ("due", _("Due, soonest first")),
    ("-due", _("Due, latest first")),
    ("priority", _("Priority")),
    ("-created", _("Newest")),
]


class TaskFilterForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    due = forms.ChoiceField(label=_("Due"), choices=DUE_CHOICES, required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=PRIORITY_CHOICES, required=False)
    related = forms.ChoiceField(label=_("Related to"), choices=RELATED_CHOICES, required=False)
    owner = forms.ChoiceField(label=_("Owner"), choices=OWNER_CHOICES, required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)

    def __init__(self, data: QueryDict, **kwargs: Any) -> None:
        merged = data.copy()
        if "status" not in merged:
            merged["status"] = Status.OPEN
        if "owner" not in merged:
            merged["owner"] = "me"
        super().__init__(merged, **kwargs)

    def filters(self) -> TaskFilters:
        data = self.cleaned_data if self.is_valid() else {}
        related = data.get("related") or ""
        sort = data.get("sort") or DEFAULT_SORT
        return TaskFilters(
            status=data.get("status", Status.OPEN) if self.is_valid() else Status.OPEN,
            due=data.get("due") or "",
            priority=data.get("priority") or "",
            related=related if related in {"customer", "none", *RELATED_TYPES} else "",
            owner=data.get("owner", "me") if self.is_valid() else "me",
            q=data.get("q") or "",
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )

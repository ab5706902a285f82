"""Service desk page forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledFormMixin
from guanxi.service.models import (
    AgentGroup,
    AssignmentStrategy,
    CallbackOutcome,
    TicketChannel,
    TicketPriority,
    TicketType,
)


class TicketForm(StyledFormMixin, forms.Form):
    customer = forms.IntegerField(label=_("Customer ID"), widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=TicketChannel.choices, initial=TicketChannel.PHONE
    )
    category = forms.TypedChoiceField(
        label=_("Category"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, categories: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *[(c.pk, c.name) for c in categories]]  # type: ignore[attr-defined]  # a ChoiceField


class ReplyForm(StyledFormMixin, forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))
    internal = forms.BooleanField(
        label=_("Internal note (not sent to the customer)"), required=False
    )


class CallbackDoneForm(StyledFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CallbackOutcome.choices)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class CalendarDaysForm(StyledFormMixin, forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    text = forms.CharField(
        label=_("Holidays and make-up working days"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One per line: 2026-10-01 holiday 国庆节, or 2026-10-10 workday 调休."),
    )


class PolicyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    sla_class = forms.CharField(
        label=_("SLA class"),
        max_length=20,
        required=False,
        help_text=_("The tier's SLA class; empty for customers without one."),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices)
    first_response_minutes = forms.IntegerField(
        label=_("First response (business minutes)"), min_value=1
    )
    resolution_minutes = forms.IntegerField(label=_("Resolution (business minutes)"), min_value=1)
    warn_before_minutes = forms.IntegerField(
        label=_("Warn before (minutes)"), min_value=0, initial=30
    )


class CategoryForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.TypedChoiceField(
        label=_("Parent category"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, categories: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "—"), *[(c.pk, c.name) for c in categories]]  # type: ignore[attr-defined]  # a ChoiceField


def _choices(rows: Any, label: Any = str) -> list[tuple[Any, Any]]:
    return [("", "—"), *[(row.pk, label(row)) for row in rows]]


# After a username in the member lines: the agent stays in the group but gets no new tickets.
AWAY_MARKER = "(away)"


class GroupForm(StyledFormMixin, forms.Form):
    """An agent group; members as lines of "username: skill, skill"."""

    name = forms.CharField(label=_("Name"), max_length=100)
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)
    manager = forms.TypedChoiceField(
        label=_("Escalation manager"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Receives the group's SLA escalations."),
    )
    members = forms.CharField(
        label=_("Members and skills"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_(
            "One agent per line: username, then optionally a colon and skills, e.g. "
            "“agent.li: vip, 发票”. Mark an agent who gets no new tickets for now with "
            "“(away)” after the name: “agent.li (away): vip”."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, teams: Any = (), agents: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agents = {a.username.lower(): a for a in agents}
        self.fields["team"].choices = _choices(teams)  # type: ignore[attr-defined]  # a ChoiceField
        self.fields["manager"].choices = _choices(  # type: ignore[attr-defined]  # a ChoiceField
            agents, lambda u: u.get_full_name() or u.username
        )

    @staticmethod
    def initial_of(group: AgentGroup) -> dict[str, Any]:
        lines = []
        for m in group.memberships.all():
            name = m.user.username if m.is_available else f"{m.user.username} {AWAY_MARKER}"
            lines.append(f"{name}: {m.skills}" if m.skills else name)
        return {
            "name": group.name,
            "team": group.team_id,
            "manager": group.manager_id,
            "members": "\n".join(lines),
            "version": group.version,
        }

    def clean_members(self) -> list[tuple[Any, str]]:
        """The (agent, skills) lines; agents marked “(away)” are kept in `self.away_ids`."""
        members, errors = [], []
        self.away_ids: set[int] = set()
        for number, line in enumerate(self.cleaned_data["members"].splitlines(), start=1):
            username, _colon, skills = line.partition(":")
            username = username.strip()
            away = username.lower().endswith(AWAY_MARKER)
            if away:
                username = username[: -len(AWAY_MARKER)].strip()
            if not username:
                continue
            agent = self.agents.get(username.lower())
            if agent is None:
                errors.append(
                    forms.ValidationError(
                        _("Line %(number)s: there is no active agent “%(username)s”."),
                        params={"number": number, "username": username},
                    )
                )
                continue
            if away:
                self.away_ids.add(agent.pk)
            members.append((agent, skills))
        if errors:
            raise forms.ValidationError(errors)
        return members


class RuleForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        initial=100,
        help_text=_("Rules are tried from the lowest number; the first match assigns."),
    )
    category = forms.TypedChoiceField(
        label=_("Category"), coerce=int, required=False, empty_value=None
    )
    type = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Any")), *TicketType.choices], required=False
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("Any")), *TicketChannel.choices], required=False
    )
    group = forms.TypedChoiceField(label=_("Assign to group"), coerce=int)
    strategy = forms.ChoiceField(
        label=_("Method"),
        choices=AssignmentStrategy.choices,
        initial=AssignmentStrategy.ROUND_ROBIN,
    )
    skill = forms.CharField(
        label=_("Required skill"),
        max_length=40,
        required=False,
        help_text=_("Only members with this skill get the tickets; empty: every member."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, categories: Any = (), groups: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]  # a ChoiceField
            ("", _("Any")),
            *[(c.pk, f"{c.parent.name} › {c.name}" if c.parent else c.name) for c in categories],
        ]
        self.fields["group"].choices = _choices(groups)  # type: ignore[attr-defined]  # a ChoiceField

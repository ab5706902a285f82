"""Forms of the staff knowledge-base and survey pages and of the customer portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledFormMixin
from guanxi.portal.models import ArticleCategory, Question, QuestionKind, SurveyKind, Visibility


class ArticleForm(StyledFormMixin, forms.Form):
    title_zh = forms.CharField(label=_("Chinese title"), max_length=200, required=False)
    title_en = forms.CharField(label=_("English title"), max_length=200, required=False)
    body_zh = forms.CharField(
        label=_("Chinese text"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    body_en = forms.CharField(
        label=_("English text"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    category_id = forms.TypedChoiceField(
        label=_("Category"), required=False, coerce=int, empty_value=None
    )
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices)
    is_published = forms.BooleanField(label=_("Published"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category_id"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101  (narrows the type)
        field.choices = [("", "—")] + [(c.pk, c.name) for c in ArticleCategory.objects.all()]


class CategoryForm(StyledFormMixin, forms.Form):
    name_zh = forms.CharField(label=_("Chinese name"), max_length=80, required=False)
    name_en = forms.CharField(label=_("English name"), max_length=80, required=False)


class SurveyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=SurveyKind.choices)
    intro = forms.CharField(
        label=_("Introduction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    link_days = forms.IntegerField(label=_("Link valid for (days)"), initial=14, min_value=1)
    interval_days = forms.IntegerField(
        label=_("Send every (days)"),
        required=False,
        min_value=1,
        help_text=_("NPS surveys: how often each customer is asked."),
    )
    questions = forms.CharField(
        label=_("Questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One per line: kind | question | choices separated by commas | the question in "
            "English, shown to English readers (optional). Kinds: rating, nps, choice, text. "
            "Put * before the overall question. Empty: the standard questions, in both languages."
        ),
    )

    def question_rows(self) -> list[dict[str, Any]]:
        rows = []
        for line in (self.cleaned_data.get("questions") or "").splitlines():
            parts = [part.strip() for part in line.split("|")]
            if not parts[0]:
                continue
            kind = parts[0].lstrip("*").strip().lower()
            rows.append(
                {
                    "kind": kind,
                    "text": parts[1] if len(parts) > 1 else "",
                    "choices": parts[2].split(",") if len(parts) > 2 and parts[2] else [],
                    "text_en": parts[3] if len(parts) > 3 else "",
                    "is_overall": parts[0].startswith("*"),
                    "is_required": kind != QuestionKind.TEXT,
                }
            )
        return rows


class ContactChoiceForm(StyledFormMixin, forms.Form):
    contact_id = forms.IntegerField(label=_("Contact ID"), min_value=1)
    email = forms.EmailField(label=_("Email"), required=False)


class LoginForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(label=_("Email"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class LinkRequestForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(label=_("Email"))


class PasswordForm(StyledFormMixin, forms.Form):
    password = forms.CharField(label=_("New password"), widget=forms.PasswordInput)
    confirm = forms.CharField(label=_("Repeat the password"), widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("confirm"):
            self.add_error("confirm", _("The passwords do not match."))
        return data


class TicketForm(StyledFormMixin, forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Describe the problem"), widget=forms.Textarea(attrs={"rows": 6})
    )


class ReplyForm(StyledFormMixin, forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}))


def answer_fields(questions: list[Question]) -> list[dict[str, Any]]:
    """What the survey template draws for each question."""
    return [
        {
            "question": q,
            "name": f"q{q.pk}",
            "scale": list(q.scale) if q.kind in {QuestionKind.RATING, QuestionKind.NPS} else [],
        }
        for q in questions
    ]

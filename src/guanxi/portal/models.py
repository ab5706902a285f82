"""Knowledge base (categories, bilingual articles, helpful votes), satisfaction surveys
(CSAT, NPS, questionnaires; emailed invitations with one-use links; responses and answers)
and customer-portal accounts (contacts' own logins, never staff users)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from guanxi.core.crypto import EncryptedTextField
from guanxi.core.models import TimeStampedModel

# --- knowledge base ---------------------------------------------------------------------------


class ArticleCategory(TimeStampedModel):
    """A shelf of the knowledge base, named in both languages."""

    name_zh = models.CharField(_("Chinese name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        ordering: ClassVar[list[str]] = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        chinese = translation.get_language() in {"zh-hans", "zh"}
        return (self.name_zh if chinese else self.name_en) or self.name_en or self.name_zh


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal (staff only)")
    PUBLIC = "public", _("Public (portal)")


class Article(TimeStampedModel):
    """One article in both languages; either language may be empty (the other is shown)."""

    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    title_zh = models.CharField(_("Chinese title"), max_length=200, blank=True)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    body_zh = models.TextField(_("Chinese text"), blank=True)
    body_en = models.TextField(_("English text"), blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    is_published = models.BooleanField(_("published"), default=True)
    helpful_yes = models.PositiveIntegerField(_("helpful"), default=0)
    helpful_no = models.PositiveIntegerField(_("not helpful"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering: ClassVar[list[str]] = ["-pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["visibility", "is_published"], name="article_visibility"),
        ]

    def __str__(self) -> str:
        return self.title_in(translation.get_language() or "en")

    def title_in(self, language: str) -> str:
        chinese = language.startswith("zh")
        return (self.title_zh if chinese else self.title_en) or self.title_en or self.title_zh

    def body_in(self, language: str) -> str:
        chinese = language.startswith("zh")
        return (self.body_zh if chinese else self.body_en) or self.body_en or self.body_zh

    @property
    def title(self) -> str:
        return self.title_in(translation.get_language() or "en")

    @property
    def body(self) -> str:
        return self.body_in(translation.get_language() or "en")


class ArticleVote(models.Model):
    """One visitor's "was this helpful" answer; the voter key makes it one per visitor."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=80)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["article", "voter"], name="article_vote_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}: {self.helpful}"


# --- surveys ----------------------------------------------------------------------------------


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("CSAT (after a ticket)")
    NPS = "nps", _("NPS (on a schedule)")
    CUSTOM = "custom", _("Custom questionnaire")


class Survey(TimeStampedModel):
    """A questionnaire; CSAT ones go out when a ticket is resolved, NPS ones on a schedule."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=8, choices=SurveyKind.choices)
    intro = models.TextField(_("introduction"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    link_days = models.PositiveSmallIntegerField(_("link valid for (days)"), default=14)
    interval_days = models.PositiveSmallIntegerField(
        _("send every (days)"),
        null=True,
        blank=True,
        help_text=_("NPS surveys: how often each customer in the target tier is asked."),
    )
    target_tier = models.ForeignKey(
        "grading.Tier",
        verbose_name=_("target tier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_run_at = models.DateTimeField(_("last sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering: ClassVar[list[str]] = ["-pk"]

    def __str__(self) -> str:
        return self.name


class QuestionKind(models.TextChoices):
    RATING = "rating", _("Rating (1–5)")
    NPS = "nps", _("Likelihood to recommend (0–10)")
    CHOICE = "choice", _("Choice")
    TEXT = "text", _("Text")


class Question(models.Model):
    """One question of a survey; `is_overall` marks the score that CSAT/NPS and the
    key-driver analysis read."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=300)
    # Shown instead of `text` to readers of English when given (`text` is then the Chinese).
    text_en = models.CharField(_("question in English"), max_length=300, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=True)
    is_overall = models.BooleanField(_("overall score"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering: ClassVar[list[str]] = ["position", "pk"]

    def __str__(self) -> str:
        return self.text

    @property
    def shown(self) -> str:
        """The question in the reader's language: its English text for a reader of English
        when it has one, else the text as written."""
        if self.text_en and (translation.get_language() or "").startswith("en"):
            return self.text_en
        return self.text

    @property
    def scale(self) -> range:
        return range(0, 11) if self.kind == QuestionKind.NPS else range(1, 6)


class SurveyInvitation(models.Model):
    """One emailed link to answer a survey: a random token kept only as its SHA-256 hash,
    valid until `expires_at`, answerable once."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = EncryptedTextField(_("email"), blank=True)
    # The service app's ticket, by id: a survey outlives a deleted ticket.
    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(_("sent at"), db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["survey", "ticket_id"],
                condition=models.Q(ticket_id__isnull=False),
                name="survey_invitation_once_per_ticket",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["survey", "customer"], name="survey_invitation_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.pk}"


class SurveyResponse(models.Model):
    """The one answer to an invitation; `score` copies the overall question's answer."""

    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, related_name="response"
    )
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("overall score"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering: ClassVar[list[str]] = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.survey_id}: {self.score}"


class Answer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    rating = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.rating or self.choice or self.text[:20]}"


# --- portal accounts --------------------------------------------------------------------------


class PortalAccount(TimeStampedModel):
    """A customer contact's portal login: its own hashed password, not a staff user."""

    contact = models.OneToOneField(
        "customers.Contact", on_delete=models.CASCADE, related_name="portal_account"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="portal_accounts"
    )
    email = EncryptedTextField(_("email"))
    email_index = models.CharField(max_length=32, unique=True)
    password = models.CharField(max_length=128, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    last_login_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal account")
        verbose_name_plural = _("portal accounts")

    def __str__(self) -> str:
        return str(self.contact_id)


class LinkPurpose(models.TextChoices):
    INVITE = "invite", _("Invitation")
    LOGIN = "login", _("Sign-in link")


class PortalLink(models.Model):
    """A one-time emailed link (an invitation to set a password, or a sign-in link)."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=8, choices=LinkPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.purpose}"

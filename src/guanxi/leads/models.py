"""Leads and their events, web-to-lead forms, assignment and scoring rules, the trained lead
model, and the public pool's policies, rules and moves."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.core.crypto import EncryptedTextField
from guanxi.core.models import TimeStampedModel
from guanxi.core.scoping import ScopedQuerySet
from guanxi.customers.models import SizeBand


class IntentLevel(models.TextChoices):
    S = "S", _("S: ready to buy")
    A = "A", _("A: meet them")
    B = "B", _("B: nurture")
    C = "C", _("C: low intent")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("Working")
    NURTURING = "nurturing", _("Nurturing")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")


OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.NURTURING)


class LeadSource(models.TextChoices):
    MANUAL = "manual", _("Manual entry")
    WEB_FORM = "web_form", _("Web form")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    EVENT = "event", _("Offline event")
    REFERRAL = "referral", _("Referral")
    OTHER = "other", _("Other")


class LeadQuerySet(ScopedQuerySet["Lead"]):
    pass


class Lead(TimeStampedModel):
    """A prospective customer not yet qualified: a person, usually at a company.

    Phone and email are encrypted; `phone_index` / `email_index` are keyed hashes for
    matching against customers and other leads. `score_breakdown` explains `score`.
    """

    name = models.CharField(_("name"), max_length=120)
    company = models.CharField(_("company"), max_length=200, blank=True)
    company_key = models.CharField(max_length=200, blank=True, db_index=True, editable=False)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    phone_index = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    email = EncryptedTextField(_("email"), blank=True, default="")
    email_index = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    industry = models.ForeignKey(
        "customers.Industry",
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    region = models.CharField(_("province / region"), max_length=50, blank=True, db_index=True)
    size_band = models.CharField(_("size"), max_length=10, choices=SizeBand.choices, blank=True)
    source = models.CharField(
        _("source channel"), max_length=12, choices=LeadSource.choices, default=LeadSource.MANUAL
    )
    source_detail = models.CharField(_("source detail"), max_length=300, blank=True)
    form = models.ForeignKey(
        "LeadForm",
        verbose_name=_("web form"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    message = models.TextField(_("message"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    intent = models.CharField(
        _("intent level"), max_length=1, choices=IntentLevel.choices, blank=True, db_index=True
    )
    intent_by_hand = models.BooleanField(_("intent set by hand"), default=False)
    score = models.IntegerField(_("score"), default=0, db_index=True)
    score_breakdown = models.JSONField(_("score breakdown"), default=list, blank=True)
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    disqualified_reason = models.CharField(_("disqualification reason"), max_length=300, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    matched_customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("existing customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="matched_leads",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("converted to customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="converted_leads",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("converted to contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opportunity_id = models.PositiveBigIntegerField(_("opportunity"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    consent_given = models.BooleanField(_("consent given"), default=False)
    consent_wording = models.TextField(_("consent wording shown"), blank=True)
    consent_purpose = models.CharField(_("consent purpose"), max_length=20, blank=True)
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)

    history = HistoricalRecords(
        excluded_fields=["updated_at", "company_key", "phone_index", "email_index", "scored_at"]
    )
    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["owner", "-id"], name="lead_owner_recent"),
            models.Index(fields=["team", "-id"], name="lead_team_recent"),
            models.Index(fields=["status", "-id"], name="lead_status_recent"),
            models.Index(fields=["-score", "-id"], name="lead_score"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class LeadEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    ASSIGNED = "assigned", _("Assigned")
    OPENED_EMAIL = "opened_email", _("Opened an email")
    VISITED = "visited", _("Visited the website")
    REPLIED = "replied", _("Replied")
    FILLED_FORM = "filled_form", _("Filled in a form")
    CALLED = "called", _("Call")
    NOTE = "note", _("Note")
    STATUS = "status", _("Status changed")
    INTENT = "intent", _("Intent level changed")
    DUPLICATE = "duplicate", _("Flagged as a duplicate")
    CONVERTED = "converted", _("Converted")
    POOL = "pool", _("Public pool")


BEHAVIOUR_KINDS = (
    LeadEventKind.OPENED_EMAIL,
    LeadEventKind.VISITED,
    LeadEventKind.REPLIED,
    LeadEventKind.FILLED_FORM,
    LeadEventKind.CALLED,
)


class LeadEvent(models.Model):
    """One thing that happened to a lead: its timeline, and the behaviour its score reads."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=14, choices=LeadEventKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("lead event")
        verbose_name_plural = _("lead events")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["lead", "-occurred_at", "-id"], name="lead_event_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d}"


class FormField(models.TextChoices):
    NAME = "name", _("Name")
    COMPANY = "company", _("Company")
    TITLE = "title", _("Job title")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    REGION = "region", _("Province / region")
    SIZE_BAND = "size_band", _("Company size")
    MESSAGE = "message", _("Message")


class LeadForm(TimeStampedModel):
    """A public web-to-lead form an administrator designs; reachable at /leads/f/<slug>/."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    heading = models.CharField(_("heading"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    fields = models.JSONField(_("fields"), default=list)
    required_fields = models.JSONField(_("required fields"), default=list)
    consent_wording = models.TextField(
        _("consent wording"),
        blank=True,
        help_text=_("Shown beside the consent checkbox; leave blank for no checkbox."),
    )
    consent_required = models.BooleanField(_("consent required"), default=True)
    consent_purpose = models.CharField(_("consent purpose"), max_length=20, default="processing")
    thank_you = models.TextField(_("thank-you text"))
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    embed_origins = models.CharField(
        _("sites that may embed it"),
        max_length=500,
        blank=True,
        help_text=_("Space-separated origins such as https://www.example.com; blank: any site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("web-to-lead form")
        verbose_name_plural = _("web-to-lead forms")

    def __str__(self) -> str:
        return self.name


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    REGION = "region", _("By region")
    INDUSTRY = "industry", _("By industry")
    WORKLOAD = "workload", _("By workload")


class AssignmentRule(TimeStampedModel):
    """Who gets a new lead: the first active rule (by position) that matches it picks one
    of its members in turn (round robin) or the one with the fewest open leads (workload)."""

    name = models.CharField(_("name"), max_length=120)
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="+"
    )
    method = models.CharField(_("method"), max_length=12, choices=AssignmentMethod.choices)
    region = models.CharField(_("province / region"), max_length=50, blank=True)
    industry = models.ForeignKey(
        "customers.Industry",
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="+", blank=True
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering: ClassVar[list[str]] = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class ScoringFactor(models.TextChoices):
    TITLE = "title", _("Job title contains")
    SIZE_BAND = "size_band", _("Company size is")
    INDUSTRY = "industry", _("Industry code is")
    SOURCE = "source", _("Source is")
    EVENT = "event", _("Each time the lead")


class ScoringRule(TimeStampedModel):
    """Points for a profile fact or, per occurrence, a behaviour; behaviour points decay."""

    factor = models.CharField(_("factor"), max_length=10, choices=ScoringFactor.choices)
    value = models.CharField(_("value"), max_length=80)
    points = models.SmallIntegerField(_("points"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering: ClassVar[list[str]] = ["factor", "pk"]

    def __str__(self) -> str:
        return f"{self.factor}={self.value}: {self.points}"


class LeadSettings(models.Model):
    """The one row of lead-wide settings: score decay and the intent thresholds."""

    half_life_days = models.PositiveSmallIntegerField(_("behaviour half-life (days)"), default=30)
    intent_s = models.PositiveSmallIntegerField(_("score for intent S"), default=80)
    intent_a = models.PositiveSmallIntegerField(_("score for intent A"), default=50)
    intent_b = models.PositiveSmallIntegerField(_("score for intent B"), default=20)

    class Meta:
        verbose_name = _("lead settings")
        verbose_name_plural = _("lead settings")

    def __str__(self) -> str:
        return "lead settings"


class LeadModel(models.Model):
    """A logistic regression trained on past converted and disqualified leads."""

    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_count = models.PositiveIntegerField(_("converted leads"))
    disqualified_count = models.PositiveIntegerField(_("disqualified leads"))
    auc = models.FloatField(_("validation AUC"))
    features = models.JSONField(default=list)
    coefficients = models.JSONField(default=list)
    intercept = models.FloatField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lead model")
        verbose_name_plural = _("lead models")
        ordering: ClassVar[list[str]] = ["-trained_at", "-pk"]

    def __str__(self) -> str:
        return f"lead model {self.trained_at:%Y-%m-%d} AUC {self.auc:.2f}"


class PoolPolicy(TimeStampedModel):
    """A team's claim limits (null team: the company default)."""

    team = models.OneToOneField(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    daily_claim_quota = models.PositiveSmallIntegerField(_("claims per rep per day"), default=20)
    max_held = models.PositiveIntegerField(
        _("most customers and leads a rep may hold"), default=300
    )
    cooling_off_days = models.PositiveSmallIntegerField(_("cooling-off days"), default=30)
    warn_days = models.PositiveSmallIntegerField(_("warn the owner days before"), default=3)

    class Meta:
        verbose_name = _("pool policy")
        verbose_name_plural = _("pool policies")

    def __str__(self) -> str:
        return f"pool policy {self.team_id or '*'}"


class PoolRule(TimeStampedModel):
    """When a team's customers return to the pool; a tier's rule beats the any-tier one."""

    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    tier = models.ForeignKey(
        "grading.Tier",
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    no_follow_up_days = models.PositiveSmallIntegerField(
        _("return after days without follow-up"), null=True, blank=True
    )
    no_deal_days = models.PositiveSmallIntegerField(
        _("return after days without a deal"), null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pool rule")
        verbose_name_plural = _("pool rules")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["team", "tier"], name="pool_rule_unique_team_tier"),
        ]

    def __str__(self) -> str:
        return f"pool rule {self.team_id or '*'}/{self.tier_id or '*'}"


class PoolMoveKind(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")
    RETURNED = "returned", _("Returned automatically")
    RELEASED = "released", _("Given back")
    WARNED = "warned", _("Warned")


class PoolMove(models.Model):
    """One move into or out of the public pool; `user` is the rep who claimed or lost it."""

    kind = models.CharField(_("kind"), max_length=10, choices=PoolMoveKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pool_moves",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        verbose_name = _("pool move")
        verbose_name_plural = _("pool moves")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "kind", "-created_at"], name="pool_move_user_kind"),
            models.Index(fields=["customer", "-created_at"], name="pool_move_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id or self.lead_id}"

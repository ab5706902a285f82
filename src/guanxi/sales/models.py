"""Sales: pipelines and their stages, opportunities with their product lines, competitors,
stage history and close reasons, and sales targets per rep or team.

Opportunities are visible by their own owner and team (`visible_to`). Stage and reason names
are stored in English and Chinese; `label` picks the one for the active language.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from guanxi.core.models import TimeStampedModel
from guanxi.core.scoping import ScopedQuerySet

ZERO = Decimal("0.00")

# Fields a stage may require before a deal enters it (names of Opportunity fields, plus
# "lines" and "competitors" for related rows).
REQUIRABLE_FIELDS: dict[str, Any] = {
    "contact": _("contact"),
    "amount": _("amount"),
    "expected_close": _("expected close date"),
    "next_step": _("next step"),
    "source": _("source"),
    "lines": _("products"),
    "competitors": _("competitors"),
}


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class BilingualName(models.Model):
    """A name in English and in Chinese; `label` is the one for the active language."""

    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        language = get_language() or ""
        if language.startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name


class Pipeline(BilingualName, TimeStampedModel):
    """A sales process: an ordered list of stages. One pipeline is the default."""

    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering: ClassVar[list[str]] = ["-is_default", "name", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="sales_pipeline_one_default",
            ),
        ]


class Stage(BilingualName):
    """A step of a pipeline with its win probability and the fields a deal needs to enter."""

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=0)
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering: ClassVar[list[str]] = ["pipeline", "order", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="sales_stage_probability_max_100"
            ),
        ]


class ReasonKind(models.TextChoices):
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class CloseReason(BilingualName):
    """Why deals are won or lost: the configurable list the close dialog offers."""

    kind = models.CharField(_("kind"), max_length=4, choices=ReasonKind.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("close reason")
        verbose_name_plural = _("close reasons")
        ordering: ClassVar[list[str]] = ["kind", "order", "pk"]


class Competitor(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name


class Heat(models.TextChoices):
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    OMITTED = "omitted", _("Omitted")


class OpportunityQuerySet(ScopedQuerySet["Opportunity"]):
    pass


class Opportunity(TimeStampedModel):
    """A deal with a customer moving through a pipeline's stages until won or lost.

    `amount` is a plain decimal in the company's currency. `stage_entered_at` is when the
    deal entered its current stage; `StageVisit` rows keep every stage's entered/left times.
    """

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    amount = money_field(_("amount"), default=ZERO, blank=True)
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=40, blank=True, default="")
    heat = models.CharField(_("heat"), max_length=4, choices=Heat.choices, default=Heat.WARM)
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    next_step = models.CharField(_("next step"), max_length=300, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    status = models.CharField(
        _("status"),
        max_length=4,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.OPEN,
    )
    close_reason = models.ForeignKey(
        CloseReason,
        verbose_name=_("close reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    close_note = models.CharField(_("close note"), max_length=300, blank=True, default="")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"))

    history = HistoricalRecords(excluded_fields=["updated_at", "stage_entered_at"])
    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["pipeline", "status", "stage", "-id"], name="sales_opp_board"),
            models.Index(fields=["pipeline", "status", "-id"], name="sales_opp_list"),
            models.Index(
                fields=["pipeline", "status", "-amount", "-id"], name="sales_opp_list_amount"
            ),
            models.Index(fields=["owner", "-id"], name="sales_opp_owner_recent"),
            models.Index(fields=["team", "-id"], name="sales_opp_team_recent"),
            # Covering indexes: the board's per-stage count/sum and the forecast's grouping
            # read most open deals, so they are answered from the index alone (scope columns
            # owner/team and the counted id included; plain key columns so SQLite, which has
            # no INCLUDE, covers too) instead of from the table.
            models.Index(
                fields=["pipeline", "status", "stage", "amount", "owner", "team", "id"],
                name="sales_opp_board_sum",
            ),
            models.Index(
                # the forecast reads only this index: stage (for its probability) and
                # category (commit / best case / omitted) are in it too
                fields=[
                    "status",
                    "expected_close",
                    "owner",
                    "amount",
                    "team",
                    "id",
                    "stage",
                    "forecast_category",
                ],
                name="sales_opp_forecast_all",
            ),
            models.Index(fields=["customer", "-id"], name="sales_opp_customer_recent"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="sales_opportunity_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityLine(models.Model):
    """A product the deal would sell: quantity × unit price less a percentage discount."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "commerce.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, default=1)
    unit_price = money_field(_("unit price"), default=ZERO)
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=ZERO)
    amount = money_field(_("amount"), default=ZERO)

    class Meta:
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")
        ordering: ClassVar[list[str]] = ["pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="sales_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="sales_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0) & Q(discount__lte=100),
                name="sales_line_discount_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class OpportunityCompetitor(models.Model):
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="competitors",
    )
    competitor = models.ForeignKey(
        Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT, related_name="deals"
    )
    strengths = models.CharField(_("strengths"), max_length=300, blank=True, default="")
    weaknesses = models.CharField(_("weaknesses"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("competitor on a deal")
        verbose_name_plural = _("competitors on deals")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["opportunity", "competitor"], name="sales_competitor_once_per_deal"
            ),
        ]

    def __str__(self) -> str:
        return str(self.competitor_id)


class StageVisit(models.Model):
    """A deal's stay in one stage: when it entered and (once it moved on) when it left."""

    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="stage_visits",
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="visits"
    )
    entered_at = models.DateTimeField(_("entered at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stage visit")
        verbose_name_plural = _("stage visits")
        ordering: ClassVar[list[str]] = ["entered_at", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["stage", "entered_at"], name="sales_visit_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}@{self.stage_id}"


class SalesTarget(TimeStampedModel):
    """The amount a rep (user) or a team should win between two dates."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    amount = money_field(_("target amount"))

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering: ClassVar[list[str]] = ["-period_start", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(team__isnull=False),
                name="sales_target_for_rep_or_team",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="sales_target_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="sales_target_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_start}–{self.period_end}"


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class QuoteQuerySet(ScopedQuerySet["Quote"]):
    scope_owner_field = "opportunity__owner"
    scope_team_field = "opportunity__team"


class Quote(TimeStampedModel):
    """A priced offer built from a deal's product lines.

    A discount above the limit of the customer's tier policy (and the author's role) needs a
    manager's approval before the quote can be accepted; an accepted quote becomes an order.
    Visible as its deal is. `number` is "QT" + the id padded to 8 digits.
    """

    number = models.CharField(_("quote number"), max_length=32, unique=True, null=True, blank=True)
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="quotes"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    valid_until = models.DateField(_("valid until"))
    subtotal = money_field(_("subtotal"), default=ZERO)
    discount_total = money_field(_("discount"), default=ZERO)
    total = money_field(_("total"), default=ZERO)
    max_discount = models.DecimalField(
        _("largest discount (%)"), max_digits=5, decimal_places=2, default=ZERO
    )
    discount_limit = models.DecimalField(
        _("discount limit (%)"), max_digits=5, decimal_places=2, default=ZERO
    )
    notes = models.TextField(_("notes"), blank=True, default="")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or rejected by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.CharField(_("comment"), max_length=500, blank=True, default="")
    order = models.ForeignKey(
        "commerce.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = QuoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering: ClassVar[list[str]] = ["-pk"]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class QuoteLine(models.Model):
    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "commerce.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_price = money_field(_("unit price"))
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2)
    amount = money_field(_("amount"))

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering: ClassVar[list[str]] = ["pk"]

    def __str__(self) -> str:
        return self.description


class Instalment(models.Model):
    """One instalment of an accepted quote's payment plan (回款计划), with its reminder task.

    Each instalment is a commerce invoice (a receivable) for the order, due on the
    instalment's date: payments are recorded against that invoice, so its paid amount and
    status are the instalment's paid state, and credit grading reads them like any invoice.
    """

    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="instalments"
    )
    sequence = models.PositiveSmallIntegerField(_("instalment"))
    due_on = models.DateField(_("due on"))
    amount = money_field(_("amount"))
    reminder_task_id = models.PositiveIntegerField(_("reminder task"), null=True, blank=True)
    invoice = models.OneToOneField(
        "commerce.Invoice",
        verbose_name=_("invoice"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="instalment",
    )

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering: ClassVar[list[str]] = ["quote", "sequence"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["quote", "sequence"], name="sales_instalment_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sales_instalment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quote_id}/{self.sequence}"

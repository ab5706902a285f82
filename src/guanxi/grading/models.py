"""Grading: schemes and their tiers (with each tier's service policy), the per-customer
metrics they read, the current grades, their history, evaluation runs and follow-ups."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel
from guanxi.core.scoping import ScopedQuerySet

# BULK_KEY: foreign keys that evaluations write by the ten thousand (history rows, their
# notifications, the grades' tiers) carry no database-level constraint. Each statement takes
# them from rows it joins, so they hold by construction; Django still cascades deletions made
# through the ORM. With the constraints, every row's deferred check at COMMIT (a key-share
# lock on the customer's or tier's row) took ~0.3 s of a night's RFM evaluation at 1M on
# PostgreSQL.


def _bulk_tier_key() -> models.ForeignKey[Any, Any]:
    """A tier key an evaluation writes in bulk: no index of its own, no database-level
    constraint (see BULK_KEY)."""
    return models.ForeignKey(
        "Tier",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )


class Method(models.TextChoices):
    THRESHOLDS = "thresholds", _("Thresholds (first matching tier wins)")
    QUANTILES = "quantiles", _("Quantile scores (e.g. RFM quintiles)")
    CUMULATIVE = "cumulative", _("Cumulative share (ABC / Pareto)")
    MATRIX = "matrix", _("Two-dimensional matrix")


class Schedule(models.TextChoices):
    NONE = "", _("On demand only")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class Scheme(TimeStampedModel):
    """A way of grading customers; several run side by side, each gives one tier per customer.

    `config` holds what the method needs (see guanxi.grading.engine): the quantile
    dimensions, the cumulative-share cut-offs or the matrix axes, plus `eligible`, the
    condition a customer must meet to be graded at all.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    kinds = models.JSONField(_("customer kinds"), default=list, blank=True)
    method = models.CharField(_("method"), max_length=12, choices=Method.choices)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    preset = models.CharField(_("preset"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    is_primary = models.BooleanField(
        _("drives service"),
        default=False,
        help_text=_("The tiers of the primary scheme set follow-ups, SLAs, points and discounts."),
    )
    schedule = models.CharField(_("schedule"), max_length=10, choices=Schedule.choices, blank=True)
    retention_ranks = models.PositiveSmallIntegerField(
        _("key tiers"),
        default=0,
        help_text=_("A customer who falls from one of the best N tiers gets a retention task."),
    )
    last_evaluated_at = models.DateTimeField(_("last evaluated"), null=True, blank=True)
    # What the last applied evaluation graded from (see engine.candidates): when it began,
    # the date it graded as of, and a fingerprint of the scheme's rules then.
    graded_since = models.DateTimeField(null=True, blank=True, editable=False)
    graded_as_of = models.DateField(null=True, blank=True, editable=False)
    graded_rules = models.CharField(max_length=64, blank=True, editable=False)
    # A quantile scheme's cut-offs in that evaluation ({dimension: [value, …]}, worst first).
    graded_cutoffs = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("grading scheme")
        verbose_name_plural = _("grading schemes")
        ordering: ClassVar[list[str]] = ["-is_primary", "pk"]

    def __str__(self) -> str:
        return self.name_en

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class Tier(models.Model):
    """One tier of a scheme, its rule (for threshold schemes) and its service policy."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="tiers")
    code = models.SlugField(_("code"), max_length=40)
    name_zh = models.CharField(_("Chinese name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("1 is the best tier."))
    color = models.CharField(_("colour"), max_length=20, default="secondary")
    condition = models.TextField(
        _("condition"),
        blank=True,
        help_text=_("For example: revenue_12m >= 100000 and order_count_12m >= 4"),
    )
    is_fallback = models.BooleanField(_("fallback"), default=False)
    # Service policy (differentiated management).
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow up every (days)"), null=True, blank=True
    )
    preferred_channels = models.JSONField(_("preferred channels"), default=list, blank=True)
    sla_class = models.CharField(_("ticket SLA class"), max_length=20, blank=True)
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=1
    )
    max_discount_percent = models.DecimalField(
        _("maximum discount (%)"), max_digits=5, decimal_places=2, default=0
    )
    account_manager_level = models.CharField(_("account manager level"), max_length=40, blank=True)
    care_actions = models.JSONField(_("care actions"), default=list, blank=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering: ClassVar[list[str]] = ["scheme", "rank", "pk"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["scheme", "code"], name="tier_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name_en

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class CustomerMetrics(models.Model):
    """Per-customer metrics as of one date, refreshed for everyone at once in SQL."""

    # A merge leaves these with the merged customer: the survivor is re-graded on its own.
    keeps_merged_customer = True

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="metrics"
    )
    as_of = models.DateField()
    revenue_lifetime = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    revenue_12m = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    margin_lifetime = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    margin_12m = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    order_count = models.IntegerField(default=0)
    order_count_12m = models.IntegerField(default=0)
    first_order_at = models.DateTimeField(null=True)
    last_order_at = models.DateTimeField(null=True)
    recency_days = models.IntegerField(null=True)
    tenure_days = models.IntegerField(default=0)
    average_order_value = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    revenue_last_6m = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    revenue_prior_6m = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    revenue_trend = models.IntegerField(default=0)
    payment_recovery_24m = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    max_days_to_pay_24m = models.IntegerField(null=True)
    # What max_days_to_pay_24m is counted from at grading time: the longest term of the paid
    # invoices and the oldest issue date of the unpaid ones (whose term grows every day).
    max_days_paid_24m = models.IntegerField(null=True)
    unpaid_issued_24m = models.DateField(null=True)
    overdue_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    aum = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    monthly_average_assets = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    loan_balance = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    interactions_90d = models.IntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)
    # When each kind of figure last changed (metrics.STAMPS): an evaluation looks again only
    # at the customers whose figures it reads changed since the last (engine.candidates).
    orders_changed_at = models.DateTimeField(default=timezone.now)
    orders_12m_changed_at = models.DateTimeField(default=timezone.now)
    invoices_changed_at = models.DateTimeField(default=timezone.now)
    holdings_changed_at = models.DateTimeField(default=timezone.now)
    interactions_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer metrics")
        verbose_name_plural = _("customer metrics")
        # What a nightly RFM evaluation looks up instead of reading every row
        # (engine.candidates): the customers whose order figures changed, and those whose
        # value lies between a cut-off then and now. The other updates stay on their page.
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["orders_changed_at"], name="metrics_orders_changed"),
            models.Index(fields=["last_order_at"], name="metrics_last_order"),
            models.Index(fields=["revenue_lifetime"], name="metrics_revenue"),
            models.Index(fields=["order_count"], name="metrics_order_count"),
        ]

    def __str__(self) -> str:
        return f"metrics of {self.customer_id} as of {self.as_of}"


class MetricsState(models.Model):
    """How far the stored metrics are complete (one row, or none before the first full
    refresh): every row holds its customer's figures of each kind as of that kind's date in
    `units` (`as_of` at least), except for the customers listed in MetricsChange and those
    of MetricsPending batches the kind has not recomputed, whose facts changed since."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    as_of = models.DateField()
    refreshed_at = models.DateTimeField(default=timezone.now)
    # The last refresh that recomputed everyone: what changed before it was not recorded.
    recomputed_at = models.DateTimeField(null=True, blank=True)
    # How far each kind of figure (metrics.UNITS) is refreshed: {"as_of": ISO date, "batch":
    # the last batch of logged customers recomputed}. An evaluation refreshes only the kinds
    # its scheme reads; `as_of` is the earliest; a kind not listed is as of `as_of`, batch 0.
    units = models.JSONField(default=dict, blank=True)
    # The last batch of logged customers moved to MetricsPending.
    batch = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("metrics state")
        verbose_name_plural = _("metrics state")

    def __str__(self) -> str:
        return f"metrics complete as of {self.as_of}"


class MetricsChange(models.Model):
    """A customer whose orders, invoices, holdings or interactions changed (or who was
    created or merged) since the last refresh. Written by database triggers (see
    grading.capture) whatever the path — services, imports, merges, raw SQL; each refresh
    moves the rows it sees to MetricsPending. No foreign key: a deleted customer's rows are
    skipped."""

    id = models.BigAutoField(primary_key=True)
    customer_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("metrics change")
        verbose_name_plural = _("metrics changes")

    def __str__(self) -> str:
        return f"metrics of {self.customer_id} to refresh"


class MetricsPending(models.Model):
    """A customer the capture log held (MetricsChange), moved here by a refresh in a numbered
    batch. Each kind of figure (metrics.UNITS) recomputes the customers of the batches after
    the last it did, so an evaluation that refreshes only the kinds it reads leaves the rest
    to the next one that needs them; schemes that read customers' own rows (kinds, custom
    fields) look again at those logged since their last evaluation. A row goes once every
    kind has recomputed it and it is older than metrics.PENDING_KEPT."""

    id = models.BigAutoField(primary_key=True)
    batch = models.PositiveIntegerField()
    customer_id = models.BigIntegerField()
    logged_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pending metrics")
        verbose_name_plural = _("pending metrics")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["batch"], name="metrics_pending_batch"),
            models.Index(fields=["logged_at"], name="metrics_pending_logged"),
        ]

    def __str__(self) -> str:
        return f"metrics of {self.customer_id} logged in batch {self.batch}"


class GradeQuerySet(ScopedQuerySet["CustomerGrade"]):
    scope_owner_field = "customer__owner"
    scope_team_field = "customer__team"


class CustomerGrade(models.Model):
    """A customer's current tier in one scheme: the rule's tier, or an expert's override."""

    # A merge leaves these with the merged customer: the survivor is re-graded on its own.
    keeps_merged_customer = True

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="grades"
    )
    # grade_unique (scheme, customer) serves lookups by scheme: no index of its own.
    scheme = models.ForeignKey(
        Scheme, on_delete=models.CASCADE, related_name="grades", db_index=False
    )
    # Every evaluation rewrites the grades that change and each index costs a write per row:
    # the tier keys have none of their own (grade_scheme_tier serves lookups; deleting a tier
    # reads the table once), the override keys index only the few overrides. The tier keys an
    # evaluation rewrites have no database-level constraint (see BULK_KEY).
    tier = _bulk_tier_key()
    rule_tier = _bulk_tier_key()
    score = models.CharField(max_length=40, blank=True)
    explanation = models.TextField(blank=True)
    evaluated_at = models.DateTimeField(null=True)
    override_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    override_reason = models.CharField(max_length=500, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    override_at = models.DateTimeField(null=True, blank=True)
    override_expires_at = models.DateTimeField(null=True, blank=True)

    objects = GradeQuerySet.as_manager()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["scheme", "customer"], name="grade_unique"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["scheme", "tier"], name="grade_scheme_tier"),
            # The few overrides, by when they run out (see engine.candidates).
            models.Index(
                fields=["override_expires_at"],
                name="grade_override_expiry",
                condition=models.Q(override_tier_id__isnull=False),
            ),
            models.Index(
                fields=["override_tier"],
                name="grade_override_tier",
                condition=models.Q(override_tier_id__isnull=False),
            ),
            models.Index(
                fields=["override_by"],
                name="grade_override_by",
                condition=models.Q(override_by_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.tier_id}"


class ChangeReason(models.TextChoices):
    EVALUATION = "evaluation", _("Evaluation")
    OVERRIDE = "override", _("Expert override")
    OVERRIDE_ENDED = "override_ended", _("Override ended")


class GradeChange(models.Model):
    """A change of a customer's tier in one scheme: from, to, when, why."""

    # A merge leaves these with the merged customer: the survivor is re-graded on its own.
    keeps_merged_customer = True

    # Written for every change of every evaluation: the customer and scheme keys are served by
    # the two indexes below, the tier keys have none (deleting a tier reads the table once),
    # the actor's indexes only the rows that have one. The keys an evaluation writes have no
    # database-level constraint (see BULK_KEY): its statements take them from the rows they
    # join, and the ORM still cascades deletions.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="grade_changes",
        db_index=False,
        db_constraint=False,
    )
    scheme = models.ForeignKey(
        Scheme,
        on_delete=models.CASCADE,
        related_name="changes",
        db_index=False,
        db_constraint=False,
    )
    from_tier = _bulk_tier_key()
    to_tier = _bulk_tier_key()
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=ChangeReason.choices)
    explanation = models.TextField(blank=True)
    run = models.ForeignKey(
        "EvaluationRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        db_constraint=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["-changed_at", "-pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["customer", "scheme", "changed_at"], name="grade_change_lookup"),
            models.Index(fields=["scheme", "changed_at"], name="grade_change_scheme"),
            models.Index(
                fields=["actor"],
                name="grade_change_actor",
                condition=models.Q(actor_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier_id} → {self.to_tier_id}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class EvaluationRun(models.Model):
    """One evaluation (or preview) of a scheme, with its progress and outcome."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="runs")
    is_preview = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    step = models.CharField(max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    evaluated = models.IntegerField(default=0)
    changed = models.IntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-pk"]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.scheme_id}"


class GradeStage(models.Model):
    """Rows an evaluation computes before it swaps them in, in one transaction.

    Scratch space: UNLOGGED on PostgreSQL (never needs to survive a crash) and without a
    database-level foreign key to the run (a million deferred checks at COMMIT otherwise).
    """

    run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    customer_id = models.BigIntegerField()
    tier_id = models.BigIntegerField(null=True)
    score = models.CharField(max_length=40, blank=True)
    explanation = models.TextField(blank=True)
    # The customer held no grade in the scheme when staged: applying inserts these without
    # looking up every staged customer's grade again.
    is_new = models.BooleanField(default=False)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["run", "customer_id"], name="grade_stage_run"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.customer_id}"


class TierSnapshot(models.Model):
    """How many customers each tier held after an evaluation (the distribution over time)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="+")
    tier = models.ForeignKey(Tier, null=True, on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField(db_index=True)
    customers = models.IntegerField()

    class Meta:
        ordering: ClassVar[list[str]] = ["taken_at"]

    def __str__(self) -> str:
        return f"{self.tier_id}: {self.customers}"


class FollowUpKind(models.TextChoices):
    ROUTINE = "routine", _("Routine follow-up")
    RETENTION = "retention", _("Retention")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class FollowUpQuerySet(ScopedQuerySet["FollowUp"]):
    scope_owner_field = "customer__owner"
    scope_team_field = "customer__team"


class FollowUp(models.Model):
    """A follow-up the system asks a customer's owner to make, from the tier's policy.

    The planner opens up to one per customer in one statement, so each index and each
    database-checked key costs once per new row: the customer and owner keys are checked by
    the database and looked up through the composite indexes below; the tier, a note of which
    policy asked, is checked by the planner's join and set to NULL by Django when its tier is
    deleted (on_delete, as for every key here), so it has neither constraint nor index."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="follow_ups", db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        db_index=False,
    )
    tier = models.ForeignKey(
        Tier,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    kind = models.CharField(
        max_length=10, choices=FollowUpKind.choices, default=FollowUpKind.ROUTINE
    )
    status = models.CharField(
        max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    due_on = models.DateField(db_index=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering: ClassVar[list[str]] = ["due_on", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["owner", "status", "due_on"], name="follow_up_owner"),
            models.Index(fields=["customer", "status"], name="follow_up_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} by {self.due_on}"

    @property
    def reason_label(self) -> str:
        labels = {
            "interval": _("No contact within the tier's follow-up interval"),
            "tier_fell": _("A key customer fell a tier"),
        }
        return str(labels.get(self.reason, self.reason))


class Notification(models.Model):
    """A message to one user (tier changes for now), shown in the app until read."""

    # A merge leaves these with the merged customer: the survivor is re-graded on its own.
    keeps_merged_customer = True

    # Written in bulk for every tier change: no database-level constraint (see BULK_KEY).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="grading_notifications",
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    change = models.ForeignKey(
        GradeChange,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.title

"""Customer import jobs: the uploaded file, its column mapping and dry run, the per-row
errors, and what each committed row did (so that a job can be reverted)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel

__all__ = [
    "DuplicatePolicy",
    "ImportAction",
    "ImportFormat",
    "ImportJob",
    "ImportRowError",
    "ImportStatus",
    "ImportTarget",
    "ImportedRow",
]


class ImportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel workbook")
    VCF = "vcf", _("vCard")


class ImportTarget(models.TextChoices):
    """What the rows of a file are: customers, or one kind of commerce fact about them."""

    CUSTOMERS = "customers", _("Customers")
    ORDERS = "orders", _("Orders")
    INVOICES = "invoices", _("Invoices")
    PAYMENTS = "payments", _("Payments")
    HOLDINGS = "holdings", _("Holdings snapshots")
    LEADS = "leads", _("Leads")


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", _("Skip rows that match an existing customer")
    UPDATE = "update", _("Update the matching customer")
    CREATE = "create", _("Create a new customer anyway")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    ANALYSING = "analysing", _("Analysing")
    ANALYSED = "analysed", _("Analysed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    REVERTED = "reverted", _("Reverted")


class ImportAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    SKIPPED = "skipped", _("Skipped")


class ImportJob(TimeStampedModel):
    """One uploaded file on its way into the customer table.

    `mapping` maps a column index (as text) to a target field key ("name", "custom.level")
    or "" to ignore the column. `last_row_committed` is the checkpoint: the spreadsheet row
    number of the last row of the last committed batch, so a rerun resumes after it.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    file_size = models.BigIntegerField(_("file size"), default=0)
    format = models.CharField(_("format"), max_length=4, choices=ImportFormat.choices)
    target = models.CharField(
        _("rows are"), max_length=10, choices=ImportTarget.choices, default=ImportTarget.CUSTOMERS
    )
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    headers = models.JSONField(_("column headers"), default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    duplicate_policy = models.CharField(
        _("duplicate policy"),
        max_length=6,
        choices=DuplicatePolicy.choices,
        default=DuplicatePolicy.SKIP,
    )
    allow_reimport = models.BooleanField(_("allow importing the same file again"), default=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ImportStatus.choices,
        default=ImportStatus.UPLOADED,
        db_index=True,
    )
    dry_run = models.JSONField(_("dry run"), default=dict, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    last_row_committed = models.PositiveIntegerField(_("last row committed"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    reverted_at = models.DateTimeField(_("reverted at"), null=True, blank=True)
    revert_result = models.JSONField(_("revert result"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        ordering: ClassVar[list[str]] = ["-pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["created_by", "-id"], name="import_job_creator_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.original_name}"

    @property
    def progress(self) -> int:
        """Per cent of the rows committed (0–100)."""
        if not self.rows_total:
            return 100 if self.status == ImportStatus.COMPLETED else 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def is_busy(self) -> bool:
        return self.status in (ImportStatus.ANALYSING, ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportRowError(models.Model):
    """One refused value of one row; personal values are stored masked, never in plain text."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(_("row"))
    field = models.CharField(_("field"), max_length=100, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    message = models.CharField(_("message"), max_length=500)

    class Meta:
        verbose_name = _("import row error")
        verbose_name_plural = _("import row errors")
        ordering: ClassVar[list[str]] = ["row_number", "pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["job", "row_number", "id"], name="import_error_job_row"),
        ]

    def __str__(self) -> str:
        return f"{self.row_number} {self.field}: {self.message}"


class ImportedRow(models.Model):
    """What one committed row did to which customer, and how to undo it.

    `before` holds, for an update, the previous values of the changed fields; personal
    fields are kept as their encrypted tokens. `revert_outcome` is set once the row has
    been reverted, so that an interrupted revert resumes where it stopped.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="imported_rows")
    row_number = models.PositiveIntegerField(_("row"))
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=7, choices=ImportAction.choices)
    before = models.JSONField(_("values before"), null=True, blank=True)
    customer_version_after = models.PositiveIntegerField(_("version after import"), default=1)
    revert_outcome = models.CharField(_("revert outcome"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["job", "row_number"], name="imported_row_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.row_number} {self.action}"

"""The access log: who revealed, exported, imported or merged which personal data, and when."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    REVEAL = "reveal", _("Revealed personal data")
    EXPORT = "export", _("Exported")
    IMPORT = "import", _("Imported")
    MERGE = "merge", _("Merged")
    VIEW_SENSITIVE = "view_sensitive", _("Viewed sensitive data")
    OVERRIDE = "override", _("Overrode a grade")


class AccessLog(models.Model):
    """One access to personal data. Append-only: rows are written by services, never edited.

    `actor_name` keeps the username so that the row still names who it was after the user is
    deleted; `detail` holds counts, formats and reasons, never the personal data itself.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AccessAction.choices)
    target_model = models.CharField(_("target model"), max_length=100)
    target_pk = models.CharField(_("target id"), max_length=64, blank=True)
    field = models.CharField(_("field"), max_length=100, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering: ClassVar[list[str]] = ["-pk"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["target_model", "target_pk"], name="audit_access_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or '-'} {self.action} {self.target_model}:{self.target_pk}"

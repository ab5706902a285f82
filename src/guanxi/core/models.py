"""The base model every domain row extends: timestamps and an edit version."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """created_at / updated_at and a version that each save through a service bumps.

    A form or API payload carries the version it read; `core.concurrency.check_version`
    refuses the write when the row has moved on, so a stale edit never overwrites.
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True

    def bump_version(self, **_: Any) -> None:
        self.version = (self.version or 0) + 1


class IdempotencyRecord(models.Model):
    """The stored first answer to a request sent with an Idempotency-Key header."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key


class RotationCheckpoint(models.Model):
    """How far `rotate_keys` got through one encrypted field for one primary key.

    A rerun for the same key resumes after `last_pk`; a new primary key starts over.
    """

    model_label = models.CharField(_("model"), max_length=100)
    field_name = models.CharField(_("field"), max_length=100)
    last_pk = models.CharField(_("last primary key done"), max_length=64, blank=True, default="")
    key_id = models.CharField(_("key id"), max_length=32)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("key rotation checkpoint")
        verbose_name_plural = _("key rotation checkpoints")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["model_label", "field_name"], name="rotation_checkpoint_unique_field"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_label}.{self.field_name} @ {self.last_pk or '-'} ({self.key_id})"

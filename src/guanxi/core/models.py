"""The base model every domain row extends: timestamps and an edit version."""

from __future__ import annotations

from typing import Any

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

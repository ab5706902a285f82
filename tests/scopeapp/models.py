"""A minimal owned-and-teamed record, so that the scoping primitive is tested on its own."""

from django.db import models

from guanxi.core.crypto import EncryptedTextField
from guanxi.core.scoping import ScopedQuerySet


class Record(models.Model):
    title = models.CharField(max_length=50)
    owner = models.ForeignKey("accounts.User", null=True, on_delete=models.CASCADE)
    team = models.ForeignKey("accounts.Team", null=True, on_delete=models.CASCADE)
    secret = EncryptedTextField(blank=True, default="")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        app_label = "scopeapp"

    def __str__(self) -> str:
        return self.title

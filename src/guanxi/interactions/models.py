"""The multi-channel customer timeline (客户互动): calls, visits, meetings, messages and notes,
each with optional file attachments. An interaction is visible when its customer is."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel
from guanxi.core.scoping import ScopedQuerySet


class Channel(models.TextChoices):
    PHONE_CALL = "phone_call", _("Phone call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat")
    WEIBO = "weibo", _("Weibo")
    WHATSAPP = "whatsapp", _("WhatsApp")
    CHAT = "chat", _("Online chat")
    WEB_FORM = "web_form", _("Web form")
    SMS = "sms", _("SMS")
    FAX_LETTER = "fax_letter", _("Fax or letter")
    NOTE = "note", _("Note")
    OTHER = "other", _("Other")


# Channels whose length is worth recording: a call or a meeting lasts; an email does not.
TIMED_CHANNELS = frozenset({Channel.PHONE_CALL, Channel.MEETING})

# Bootstrap Icons name per channel, for the timeline.
CHANNEL_ICONS: dict[str, str] = {
    Channel.PHONE_CALL: "telephone",
    Channel.VISIT: "geo-alt",
    Channel.MEETING: "people",
    Channel.EMAIL: "envelope",
    Channel.WECHAT: "wechat",
    Channel.WEIBO: "sina-weibo",
    Channel.WHATSAPP: "whatsapp",
    Channel.CHAT: "chat-dots",
    Channel.WEB_FORM: "ui-checks",
    Channel.SMS: "chat-left-text",
    Channel.FAX_LETTER: "printer",
    Channel.NOTE: "sticky",
    Channel.OTHER: "three-dots",
}


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    NONE = "none", _("Not directed")


class InteractionQuerySet(ScopedQuerySet["Interaction"]):
    scope_owner_field = "customer__owner"
    scope_team_field = "customer__team"


class Interaction(TimeStampedModel):
    """One touch point with a customer on one channel, logged by `owner`."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="interactions",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.NONE
    )
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    summary = models.CharField(_("summary"), max_length=500)
    details = models.TextField(_("details"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True)
    location_name = models.CharField(_("location"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["customer", "-occurred_at", "-id"], name="interaction_customer_recent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.summary}"

    @property
    def icon(self) -> str:
        return CHANNEL_ICONS.get(self.channel, "three-dots")

    @property
    def duration_display(self) -> str:
        """The duration as m:ss or h:mm:ss ("" when not recorded)."""
        if self.duration_seconds is None:
            return ""
        minutes, seconds = divmod(self.duration_seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class AttachmentQuerySet(ScopedQuerySet["Attachment"]):
    scope_owner_field = "interaction__customer__owner"
    scope_team_field = "interaction__customer__team"


class Attachment(models.Model):
    """A file attached to an interaction; stored under a random name, served only through
    the scoped download view with the name and type checked at upload."""

    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("interaction"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering: ClassVar[list[str]] = ["pk"]

    def __str__(self) -> str:
        return self.original_name

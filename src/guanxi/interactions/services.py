"""Commands on the customer timeline: log, change and delete interactions, attach files, and
move a merged customer's interactions to the customer that survives."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import events
from guanxi.core.errors import DomainError, StaleEdit
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.models import Contact, Customer, CustomerStatus
from guanxi.customers.selectors import customer_get
from guanxi.interactions.files import Upload, check_uploads
from guanxi.interactions.models import (
    TIMED_CHANNELS,
    Attachment,
    Channel,
    Direction,
    Interaction,
)

MAX_FILES = 5
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
FUTURE_TOLERANCE = dt.timedelta(days=1)
TEXT_LIMITS = {
    "summary": 500,
    "details": 20_000,
    "outcome": 200,
    "next_step": 200,
    "location_name": 200,
}
FIELDS = frozenset(
    {
        "channel",
        "direction",
        "occurred_at",
        "duration_seconds",
        "contact_id",
        "next_step_date",
        "latitude",
        "longitude",
        *TEXT_LIMITS,
    }
)
COORDINATE_STEP = Decimal("0.000001")
MOVE_CHUNK = 500


def max_attachment_bytes() -> int:
    """The largest file an interaction accepts (settings.ATTACHMENT_MAX_BYTES, 10 MiB)."""
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _invalid(errors: list[dict[str, str]]) -> DomainError:
    return DomainError(errors[0]["message"], errors=errors)


def _datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value.strip())
        except ValueError:
            return None
    return None


def _coordinate(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError from error
    if not number.is_finite():
        raise ValueError
    return number.quantize(COORDINATE_STEP)


def _apply(interaction: Interaction, values: dict[str, Any]) -> list[dict[str, str]]:
    """Validate `values` onto the unsaved or loaded interaction; every error, none written."""
    errors: list[dict[str, str]] = []

    def fail(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    for field in sorted(set(values) - FIELDS):
        fail(field, _("This field is not allowed."))
    if "channel" in values:
        channel = str(values["channel"] or "").strip()
        if channel in Channel.values:
            interaction.channel = channel
        else:
            fail("channel", _("Choose one of the allowed values."))
    elif not interaction.channel:
        fail("channel", _("This field is required."))
    if "direction" in values:
        direction = str(values["direction"] or "").strip() or Direction.NONE
        if direction in Direction.values:
            interaction.direction = direction
        else:
            fail("direction", _("Choose one of the allowed values."))
    for field, limit in TEXT_LIMITS.items():
        if field in values:
            text = str(values[field] or "").strip()
            if len(text) > limit:
                fail(field, _("This value is too long."))
            else:
                setattr(interaction, field, text)
    if not interaction.summary and not any(error["field"] == "summary" for error in errors):
        fail("summary", _("This field is required."))
    if "occurred_at" in values:
        raw = values["occurred_at"]
        occurred_at = timezone.now() if raw in (None, "") else _datetime(raw)
        if occurred_at is None:
            fail("occurred_at", _("Enter a valid date and time."))
        elif occurred_at > timezone.now() + FUTURE_TOLERANCE:
            fail("occurred_at", _("The interaction cannot be more than a day in the future."))
        else:
            interaction.occurred_at = occurred_at
    elif getattr(interaction, "occurred_at", None) is None:  # a new row: now
        interaction.occurred_at = timezone.now()
    if "duration_seconds" in values:
        raw = values["duration_seconds"]
        if raw in (None, ""):
            interaction.duration_seconds = None
        else:
            try:
                seconds = int(raw)
            except (TypeError, ValueError):
                fail("duration_seconds", _("Enter a whole number."))
            else:
                if seconds < 0:
                    fail("duration_seconds", _("The duration cannot be negative."))
                else:
                    interaction.duration_seconds = seconds
    if interaction.duration_seconds is not None and interaction.channel not in TIMED_CHANNELS:
        fail("duration_seconds", _("Only calls and meetings have a duration."))
    if "next_step_date" in values:
        raw = values["next_step_date"]
        next_date = None if raw in (None, "") else _date(raw)
        if raw not in (None, "") and next_date is None:
            fail("next_step_date", _("Enter a valid date."))
        else:
            interaction.next_step_date = next_date
    if (
        interaction.next_step_date is not None
        and interaction.occurred_at is not None
        and interaction.next_step_date < timezone.localdate(interaction.occurred_at)
    ):
        fail("next_step_date", _("The next step cannot come before the interaction."))
    for field, bound in (("latitude", 90), ("longitude", 180)):
        if field not in values:
            continue
        raw = values[field]
        if raw in (None, ""):
            setattr(interaction, field, None)
            continue
        try:
            number = _coordinate(raw)
        except ValueError:
            fail(field, _("Enter a number."))
            continue
        if not -bound <= number <= bound:
            fail(
                field,
                _("Enter a value between %(low)s and %(high)s.") % {"low": -bound, "high": bound},
            )
        else:
            setattr(interaction, field, number)
    if (interaction.latitude is None) != (interaction.longitude is None) and not any(
        error["field"] in ("latitude", "longitude") for error in errors
    ):
        fail(
            "longitude" if interaction.longitude is None else "latitude",
            _("Give both the latitude and the longitude."),
        )
    if "contact_id" in values:
        raw = values["contact_id"]
        if raw in (None, ""):
            interaction.contact = None
        else:
            contact = (
                Contact.objects.filter(pk=raw, customer_id=interaction.customer_id).first()
                if str(raw).isdigit()
                else None
            )
            if contact is None:
                fail("contact_id", _("Choose a contact of this customer."))
            else:
                interaction.contact = contact
    return errors


def _check_files(
    files: list[UploadedFile], *, already: int = 0
) -> tuple[list[Upload], list[dict[str, str]]]:
    """Read each file once: its size, type (by extension and content) and digest."""
    if already + len(files) > MAX_FILES:
        message = _("An interaction holds at most %(count)s files.") % {"count": MAX_FILES}
        return [], [{"field": "files", "message": message}]
    return check_uploads(files, max_attachment_bytes())


def _store(interaction: Interaction, uploads: list[Upload], actor: User) -> list[Attachment]:
    """Write the files to storage and their rows to the database; on failure remove the files."""
    attachments = []
    try:
        for upload in uploads:
            attachment = Attachment(
                interaction=interaction,
                original_name=upload.name,
                size=upload.size,
                content_type=upload.content_type,
                sha256=upload.sha256,
                uploaded_by=actor,
            )
            extension = upload.name.rsplit(".", 1)[-1].lower()
            attachment.file.save(f"{uuid.uuid4().hex}.{extension}", upload.file, save=False)
            attachments.append(attachment)
        Attachment.objects.bulk_create(attachments)
    except BaseException:
        for attachment in attachments:
            default_storage.delete(attachment.file.name)
        raise
    return attachments


def _visible_customer(actor: User, customer: Customer) -> Customer:
    return customer_get(actor=actor, pk=customer.pk)


def interaction_log(
    *,
    actor: User,
    customer: Customer,
    values: dict[str, Any],
    files: list[UploadedFile] | None = None,
) -> Interaction:
    """Log an interaction with a customer the actor can see, with up to five files.

    Needs interactions.create; a customer outside the actor's scope is Http404. Every field
    and file is checked before anything is written; files are checked by extension and by
    content. The actor is recorded as the owner. Publishes interaction.logged after commit.
    """
    require_perm(actor, "interactions.create")
    customer = _visible_customer(actor, customer)
    if customer.status == CustomerStatus.MERGED:
        raise DomainError(
            _("This customer was merged into another; log the interaction there."),
            field="customer",
        )
    interaction = Interaction(customer=customer, owner=actor, team_id=actor.team_id)
    errors = _apply(interaction, values)
    uploads, file_errors = _check_files(files or [])
    errors += file_errors
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        interaction.save()
        _store(interaction, uploads, actor)
        events.publish_on_commit(
            "interaction.logged",
            interaction_id=interaction.pk,
            customer_id=customer.pk,
            channel=interaction.channel,
            occurred_at=interaction.occurred_at.isoformat(),
            actor_id=actor.pk,
        )
    return interaction


def _editable(actor: User, interaction: Interaction) -> Interaction:
    """The interaction, re-read and locked, when the actor may change it."""
    if not (
        has_perm(actor, "interactions.view")
        and Interaction.objects.visible_to(actor).filter(pk=interaction.pk).exists()
    ):
        raise Http404
    own = interaction.owner_id == actor.pk and has_perm(actor, "interactions.create")
    if not own:
        require_perm(actor, "interactions.edit")
    return Interaction.objects.select_for_update().get(pk=interaction.pk)


@transaction.atomic
def interaction_update(
    *, actor: User, interaction: Interaction, values: dict[str, Any], version: int | None
) -> Interaction:
    """Change an interaction the actor logged (or any visible one with interactions.edit).

    Refuses a stale `version` (StaleEdit); the same rules as logging apply to the result.
    """
    current = _editable(actor, interaction)
    if version is not None and version != current.version:
        raise StaleEdit(
            _("Someone else changed this record after you opened it. Reload and try again."),
            field="version",
        )
    errors = _apply(current, values)
    if errors:
        raise _invalid(errors)
    current.version += 1
    current.save()
    events.publish_on_commit(
        "interaction.changed",
        interaction_id=current.pk,
        customer_id=current.customer_id,
        actor_id=actor.pk,
    )
    return current


@transaction.atomic
def interaction_delete(*, actor: User, interaction: Interaction) -> None:
    """Delete an interaction and its files: the actor's own, or any visible one with
    interactions.delete. The files leave storage once the deletion commits."""
    if not (
        has_perm(actor, "interactions.view")
        and Interaction.objects.visible_to(actor).filter(pk=interaction.pk).exists()
    ):
        raise Http404
    if interaction.owner_id != actor.pk and not has_perm(actor, "interactions.delete"):
        raise PermissionDenied("interactions.delete")
    names = list(
        Attachment.objects.filter(interaction_id=interaction.pk).values_list("file", flat=True)
    )
    customer_id = interaction.customer_id
    pk = interaction.pk
    Interaction.objects.filter(pk=pk).delete()

    def remove_files() -> None:
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(remove_files)
    events.publish_on_commit(
        "interaction.deleted", interaction_id=pk, customer_id=customer_id, actor_id=actor.pk
    )


@transaction.atomic
def attachments_add(
    *, actor: User, interaction: Interaction, files: list[UploadedFile]
) -> list[Attachment]:
    """Attach files to an interaction the actor may change; at most five per interaction.

    Every file is checked (size, extension and content) before any is stored.
    """
    current = _editable(actor, interaction)
    if not files:
        raise DomainError(_("Choose at least one file."), field="files")
    uploads, errors = _check_files(files, already=current.attachments.count())
    if errors:
        raise _invalid(errors)
    attachments = _store(current, uploads, actor)
    events.publish_on_commit(
        "interaction.files_attached",
        interaction_id=current.pk,
        customer_id=current.customer_id,
        attachment_ids=[attachment.pk for attachment in attachments],
    )
    return attachments


@transaction.atomic
def interactions_move(*, from_customer_ids: list[int], to_customer_id: int) -> int:
    """Re-home the interactions of merged customers on the surviving one; returns how many.

    Set-based UPDATEs in chunks (SQLite caps bound parameters). No permission check: the
    calling merge service has made it. Contacts stay as they are (the merge moves them).
    """
    sources = sorted({pk for pk in from_customer_ids if pk != to_customer_id})
    moved = 0
    now = timezone.now()
    for start in range(0, len(sources), MOVE_CHUNK):
        moved += Interaction.objects.filter(
            customer_id__in=sources[start : start + MOVE_CHUNK]
        ).update(customer_id=to_customer_id, version=F("version") + 1, updated_at=now)
    if moved:
        events.publish_on_commit(
            "interaction.moved",
            from_customer_ids=sources,
            to_customer_id=to_customer_id,
            count=moved,
        )
    return moved

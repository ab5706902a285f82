"""Web-to-lead forms: the administrator's designer, and the public submission with its spam
defences — a size limit, a honeypot field that people never see, and a per-address rate
limit counted in the shared cache (Redis in production, so it holds across processes)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.customers.models import ConsentPurpose
from guanxi.leads.models import FormField, Lead, LeadForm

HONEYPOT_FIELD = "website"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,59}$")
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d+)?$", re.IGNORECASE)
MAX_FIELD_CHARS = {
    "name": 120,
    "company": 200,
    "title": 120,
    "phone": 40,
    "email": 254,
    "region": 50,
    "size_band": 10,
    "message": 2000,
}


class SpamRefused(DomainError):
    """A submission refused as spam or abuse; nothing was stored."""

    status = 400
    code = "spam"


class TooManySubmissions(SpamRefused):
    status = 429
    code = "too-many-submissions"


def rate_limit() -> tuple[int, int]:
    """(submissions, seconds) allowed per address per form."""
    limit = getattr(settings, "LEADS_FORM_RATE_LIMIT", (5, 600))
    return int(limit[0]), int(limit[1])


def max_body_bytes() -> int:
    return int(getattr(settings, "LEADS_FORM_MAX_BYTES", 16 * 1024))


@transaction.atomic
def lead_form_save(
    *, actor: User, values: dict[str, Any], form: LeadForm | None = None
) -> LeadForm:
    """Create or change a web-to-lead form (sales.admin); names every bad field at once."""
    require_perm(actor, "sales.admin")
    form = form or LeadForm(created_by=actor)
    errors: list[dict[str, str]] = []
    for field, limit in (("name", 120), ("heading", 200)):
        if field in values:
            text = str(values[field] or "").strip()
            if not text:
                errors.append({"field": field, "message": _("This field is required.")})
            elif len(text) > limit:
                errors.append({"field": field, "message": _("This value is too long.")})
            else:
                setattr(form, field, text)
    if "slug" in values:
        slug = str(values["slug"] or "").strip().lower()
        if not SLUG.match(slug):
            errors.append(
                {
                    "field": "slug",
                    "message": _("Use 3–60 lower-case letters, digits and hyphens."),
                }
            )
        elif LeadForm.objects.filter(slug=slug).exclude(pk=form.pk).exists():
            errors.append({"field": "slug", "message": _("This address is already used.")})
        else:
            form.slug = slug
    for field in ("intro", "consent_wording", "thank_you"):
        if field in values:
            setattr(form, field, str(values[field] or "").strip()[:5000])
    if not form.thank_you:
        errors.append({"field": "thank_you", "message": _("This field is required.")})
    if "fields" in values:
        chosen = [str(name) for name in values["fields"] or []]
        unknown = [name for name in chosen if name not in FormField.values]
        if unknown:
            errors.append({"field": "fields", "message": _("Choose one of the allowed values.")})
        form.fields = [name for name in FormField.values if name in chosen]
    if "name" not in form.fields:
        form.fields = ["name", *form.fields]
    if "required_fields" in values:
        form.required_fields = [
            name for name in values["required_fields"] or [] if name in form.fields
        ]
    if "name" not in form.required_fields:
        form.required_fields = ["name", *form.required_fields]
    if "consent_required" in values:
        form.consent_required = bool(values["consent_required"])
    if "consent_purpose" in values:
        purpose = str(values["consent_purpose"] or "processing")
        if purpose not in ConsentPurpose.values:
            errors.append(
                {"field": "consent_purpose", "message": _("Choose one of the allowed values.")}
            )
        form.consent_purpose = purpose
    if "embed_origins" in values:
        origins = str(values["embed_origins"] or "").split()
        if any(not ORIGIN.match(origin) for origin in origins):
            errors.append(
                {
                    "field": "embed_origins",
                    "message": _("Enter origins such as https://www.example.com."),
                }
            )
        form.embed_origins = " ".join(origins)[:500]
    if "team" in values:
        team = values["team"]
        form.team = team if isinstance(team, Team) or team is None else None
    if "is_active" in values:
        form.is_active = bool(values["is_active"])
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    form.version = (form.version or 0) + (1 if form.pk else 0)
    form.save()
    return form


def _hit_rate_limit(form: LeadForm, address: str) -> None:
    allowed, window = rate_limit()
    key = f"leads:form:{form.pk}:{address}"
    if cache.add(key, 1, timeout=window):
        return
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start a new window
        cache.set(key, 1, timeout=window)
        return
    if count > allowed:
        raise TooManySubmissions(
            _("Too many submissions from your address. Please try again later."),
        )


def form_submit(
    *,
    form: LeadForm,
    data: dict[str, str],
    address: str,
    body_bytes: int,
    referrer: str = "",
) -> Lead:
    """Take one public submission: refuse spam, then create, match, assign and score.

    Raises SpamRefused (honeypot filled, body too large), TooManySubmissions (rate limit)
    or DomainError naming the bad fields.
    """
    if not form.is_active:
        raise DomainError(_("This form is closed."))
    if body_bytes > max_body_bytes():
        raise SpamRefused(_("The submission is too large."))
    if str(data.get(HONEYPOT_FIELD, "")).strip():
        raise SpamRefused(_("The submission could not be accepted."))
    _hit_rate_limit(form, address)
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    for field in form.fields:
        text = str(data.get(field, "") or "").strip()
        if len(text) > MAX_FIELD_CHARS.get(field, 200):
            errors.append({"field": field, "message": _("This value is too long.")})
        elif not text and field in form.required_fields:
            errors.append({"field": field, "message": _("This field is required.")})
        else:
            values[field] = text
    consent = str(data.get("consent", "")).lower() in {"on", "1", "true", "yes"}
    if form.consent_wording.strip() and form.consent_required and not consent:
        errors.append({"field": "consent", "message": _("Please give your consent to continue.")})
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    from guanxi.leads.services import lead_create_from_form

    detail = f"{address} {referrer}".strip()
    return lead_create_from_form(form=form, values=values, consent=consent, source_detail=detail)

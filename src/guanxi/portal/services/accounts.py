"""Portal accounts: invitations, passwords, one-time sign-in links, rate-limited sign-in and
the portal's own session key. A portal account is never a staff user: it is kept in the
session under its own key, and nothing staff-side reads that key."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.crypto import blind_index, normalise_email
from guanxi.core.errors import Conflict, DomainError
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Contact
from guanxi.portal.models import LinkPurpose, PortalAccount, PortalLink
from guanxi.portal.services.links import new_token, public_url, token_hash
from guanxi.portal.services.surveys import contact_emails

logger = logging.getLogger(__name__)

SESSION_KEY = "portal_account_id"
SESSION_HASH = "portal_account_hash"
INVITE_DAYS = 7
LOGIN_LINK_MINUTES = 30
FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 50
LOCK_SECONDS = 15 * 60


class LoginLocked(DomainError):
    status = 429
    code = "too-many-attempts"


def email_index(email: str) -> str:
    return blind_index(normalise_email(email), kind="email")


def _send(email: str, subject: str, lines: list[str]) -> None:
    message = EmailMessage(subject=subject, body="\n".join(lines), to=[email])
    transaction.on_commit(lambda: message.send(fail_silently=False))


def _link(account: PortalAccount, purpose: str, lifetime: dt.timedelta) -> str:
    token, hashed = new_token()
    PortalLink.objects.create(
        account=account, purpose=purpose, token_hash=hashed, expires_at=timezone.now() + lifetime
    )
    return public_url("portal:link", token)


@transaction.atomic
def portal_invite(*, actor: User, contact: Contact, email: str = "") -> PortalAccount:
    """Give a visible contact a portal account and mail a one-time link to set a password.

    Needs service.create. A re-invitation of an existing account sends a fresh link.
    """
    require_perm(actor, "service.create")
    if not Contact.objects.visible_to(actor).filter(pk=contact.pk).exists():
        raise DomainError(_("No such record."), field="contact_id")
    address = email.strip() or contact_emails([contact.pk]).get(contact.pk, "")
    if not address or "@" not in address:
        raise DomainError(_("The contact has no email address."), field="email")
    address = normalise_email(address)
    account = PortalAccount.objects.filter(contact=contact).first()
    try:
        with transaction.atomic():
            if account is None:
                account = PortalAccount.objects.create(
                    contact=contact,
                    customer_id=contact.customer_id,
                    email=address,
                    email_index=email_index(address),
                )
            elif account.email_index != email_index(address):
                account.email, account.email_index = address, email_index(address)
                account.save(update_fields=["email", "email_index", "updated_at"])
    except IntegrityError as error:
        raise Conflict(
            _("Another portal account uses this email address."), field="email"
        ) from error
    link = _link(account, LinkPurpose.INVITE, dt.timedelta(days=INVITE_DAYS))
    _send(
        address,
        _("You are invited to the customer portal"),
        [
            _("Hello %(name)s,") % {"name": contact.name},
            "",
            _("Set your password to see and open your service tickets:"),
            link,
            "",
            _("The link works once and expires in %(days)s days.") % {"days": INVITE_DAYS},
        ],
    )
    return account


def portal_link_request(*, email: str) -> None:
    """Mail a one-time sign-in link to an active account; silent otherwise (no enumeration)."""
    account = PortalAccount.objects.filter(email_index=email_index(email), is_active=True).first()
    if account is None:
        return
    with transaction.atomic():
        link = _link(account, LinkPurpose.LOGIN, dt.timedelta(minutes=LOGIN_LINK_MINUTES))
        _send(
            account.email,
            _("Your sign-in link for the customer portal"),
            [
                _("Open this link to sign in:"),
                link,
                "",
                _("It works once and expires in %(minutes)s minutes.")
                % {"minutes": LOGIN_LINK_MINUTES},
            ],
        )


def portal_link_use(*, token: str) -> tuple[PortalAccount, str]:
    """Spend a one-time link: its account and purpose; refused when forged, used or expired."""
    with transaction.atomic():
        link = (
            PortalLink.objects.select_for_update()
            .select_related("account")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if link is None or not link.account.is_active:
            raise DomainError(_("This link is not valid."))
        if link.used_at is not None:
            raise DomainError(_("This link has already been used."))
        if link.expires_at <= timezone.now():
            raise DomainError(_("This link has expired."))
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
    return link.account, link.purpose


def portal_password_set(*, account: PortalAccount, password: str) -> PortalAccount:
    """Set the account's password (Django's validators; stored with Django's hashers)."""
    try:
        validate_password(password)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field="password") from error
    account.password = make_password(password)
    account.save(update_fields=["password", "updated_at"])
    return account


def _attempt_keys(email: str, address: str) -> dict[str, int]:
    """Counter keys and their limits: one email from one address (as the staff sign-in
    does, so that an attacker elsewhere cannot lock the contact out everywhere), and one
    address over any emails (password spraying)."""
    return {
        f"portal-login:e:{email_index(email)}:{address}": FAILURE_LIMIT,
        f"portal-login:ip:{address}": ADDRESS_FAILURE_LIMIT,
    }


def portal_authenticate(*, email: str, password: str, address: str = "") -> PortalAccount:
    """The account for an email and password. After 5 failures for one email from one
    address (or 50 from one address) sign-in is locked there for 15 minutes; the counts
    live in the cache, shared by every process."""
    limits = _attempt_keys(email, address)
    keys = list(limits)
    counts = cache.get_many(keys)
    if any(int(counts.get(key, 0)) >= limit for key, limit in limits.items()):
        raise LoginLocked(_("Too many failed attempts. Try again in 15 minutes."))
    account = PortalAccount.objects.filter(email_index=email_index(email), is_active=True).first()
    valid = (
        account is not None
        and bool(account.password)
        and check_password(password, account.password)
    )
    if account is None or not valid:
        for key in keys:
            cache.add(key, 0, LOCK_SECONDS)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, LOCK_SECONDS)
        raise DomainError(_("The email or password is not correct."), field="password")
    cache.delete(keys[0])
    return account


def _session_hash(account: PortalAccount) -> str:
    return token_hash(f"{account.pk}:{account.password}")


def portal_session_start(request: HttpRequest, account: PortalAccount) -> None:
    """Sign the account in to the portal: a new session key, the account id under the
    portal's own key (never the staff auth key)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = account.pk
    request.session[SESSION_HASH] = _session_hash(account)
    PortalAccount.objects.filter(pk=account.pk).update(last_login_at=timezone.now())


def portal_session_end(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(SESSION_HASH, None)
    request.session.cycle_key()


def portal_session_account(request: HttpRequest) -> PortalAccount | None:
    """The signed-in portal account; a changed password or a deactivation ends the session."""
    account_id = request.session.get(SESSION_KEY)
    if not isinstance(account_id, int):
        return None
    account = (
        PortalAccount.objects.select_related("contact", "customer")
        .filter(pk=account_id, is_active=True)
        .first()
    )
    if account is None or request.session.get(SESSION_HASH) != _session_hash(account):
        return None
    return account


def portal_account_set_active(*, actor: User, account: PortalAccount, active: bool) -> None:
    require_perm(actor, "service.edit")
    account.is_active = active
    account.save(update_fields=["is_active", "updated_at"])

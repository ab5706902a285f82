"""The customer portal and the public survey page: no staff login applies here.

A contact signs in with a portal account (its own session key, see services.accounts); the
`portal_login_required` decorator loads it onto `request.portal_account`. Every record read
here is limited to the account's own organisation by the portal selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.interactions.files import FILE_TYPES, download_response
from guanxi.portal import selectors, services
from guanxi.portal.forms import (
    LinkRequestForm,
    LoginForm,
    PasswordForm,
    ReplyForm,
    TicketForm,
    answer_fields,
)
from guanxi.portal.models import PortalAccount, SurveyInvitation

View = Callable[..., HttpResponseBase]
INVITED_ACCOUNT = "portal_invited_account"


def _account(request: HttpRequest) -> PortalAccount:
    account: PortalAccount = request.portal_account  # type: ignore[attr-defined]  # set below
    return account


def portal_login_required(view: View) -> View:
    """Let only a signed-in portal account in; others go to the portal's sign-in page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = services.portal_session_account(request)
        if account is None:
            return redirect(f"{reverse('portal:login')}?next={request.path}")
        request.portal_account = account  # type: ignore[attr-defined]  # the portal's actor
        return view(request, *args, **kwargs)

    return wrapped


def _voter(request: HttpRequest) -> str:
    account = services.portal_session_account(request)
    if account is not None:
        return f"portal:{account.pk}"
    if getattr(request.user, "is_authenticated", False):
        return f"user:{request.user.pk}"
    if not request.session.session_key:
        request.session.save()
    return f"session:{request.session.session_key}"


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


# --- signing in -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            account = services.portal_authenticate(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                address=_address(request),
            )
        except services.LoginLocked as error:
            form.add_error(None, error.message)
            status = 429
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            services.portal_session_start(request, account)
            target = request.GET.get("next", "")
            safe = target.startswith("/portal/") and "//" not in target
            return redirect(target if safe else reverse("portal:home"))
    return render(
        request,
        "portal/login.html",
        {"form": form, "link_form": LinkRequestForm()},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.portal_session_end(request)
    return redirect("portal:login")


@require_POST
def link_request_view(request: HttpRequest) -> HttpResponse:
    form = LinkRequestForm(request.POST)
    if form.is_valid():
        services.portal_link_request(email=form.cleaned_data["email"])
    messages.info(
        request, _("If the address belongs to a portal account, a sign-in link is on its way.")
    )
    return redirect("portal:login")


@require_http_methods(["GET", "POST"])
def link_view(request: HttpRequest, token: str) -> HttpResponse:
    """Spend an invitation (then set a password) or a one-time sign-in link.

    Opening the link shows a button; only its POST spends the link, so that a mail
    scanner that fetches every link in a message cannot use it up.
    """
    if request.method == "GET":
        return render(request, "portal/link_confirm.html")
    try:
        account, purpose = services.portal_link_use(token=token)
    except DomainError as error:
        return render(request, "portal/link_refused.html", {"message": error.message}, status=410)
    services.portal_session_start(request, account)
    if purpose == "invite":
        request.session[INVITED_ACCOUNT] = account.pk
        return redirect("portal:password")
    return redirect("portal:home")


@portal_login_required
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_password_set(account=account, password=form.cleaned_data["password"])
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            request.session.pop(INVITED_ACCOUNT, None)
            services.portal_session_start(request, account)  # the new password's session
            messages.success(request, _("Your password is set."))
            return redirect("portal:home")
    return render(request, "portal/password.html", {"form": form, "account": account})


# --- tickets ----------------------------------------------------------------------------------


@portal_login_required
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    tickets = list(selectors.portal_tickets(account)[:100])
    surveys = list(selectors.portal_surveys(account)[:20])
    return render(
        request,
        "portal/home.html",
        {"account": account, "tickets": tickets, "surveys": surveys},
    )


def _upload_limits() -> dict[str, Any]:
    """What the file field tells the contact: the accepted types, how many files, how large."""
    from guanxi.interactions.services import max_attachment_bytes
    from guanxi.service.services import MAX_FILES

    return {
        "accept": ",".join(f".{extension}" for extension in FILE_TYPES),
        "max_files": MAX_FILES,
        "max_size": max_attachment_bytes(),
    }


@portal_login_required
@require_http_methods(["GET", "POST"])
def ticket_create_view(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = TicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.portal_ticket_open(
                account=account, files=request.FILES.getlist("attachments"), **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Your request is received."))
            return redirect("portal:ticket-detail", pk=ticket.pk)
    return render(
        request,
        "portal/ticket_form.html",
        {"form": form, "account": account, "uploads": _upload_limits()},
    )


@portal_login_required
@require_http_methods(["GET", "POST"])
def ticket_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request)
    ticket = selectors.portal_ticket_get(account, pk)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_ticket_reply(
                account=account,
                ticket=ticket,
                body=form.cleaned_data["body"],
                files=request.FILES.getlist("attachments"),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Reply sent."))
            return redirect("portal:ticket-detail", pk=ticket.pk)
    return render(
        request,
        "portal/ticket_detail.html",
        {
            "account": account,
            "ticket": ticket,
            "conversation": selectors.portal_ticket_messages(ticket),
            "files": selectors.portal_ticket_files(ticket),
            "uploads": _upload_limits(),
            "form": form,
        },
    )


@portal_login_required
@require_GET
def ticket_file_view(request: HttpRequest, ticket_pk: int, pk: int) -> FileResponse:
    """A file the contact may see on one of the organisation's tickets, as a download."""
    return download_response(selectors.portal_attachment_get(_account(request), ticket_pk, pk))


# --- knowledge base ---------------------------------------------------------------------------


@require_GET
def help_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    articles = list(selectors.public_article_list(q=q)[:100])
    return render(
        request,
        "portal/help.html",
        {"articles": articles, "q": q, "account": services.portal_session_account(request)},
    )


@require_GET
def help_article_view(request: HttpRequest, pk: int) -> HttpResponse:
    article = selectors.public_article_get(pk=pk)
    return render(
        request,
        "portal/help_article.html",
        {"article": article, "account": services.portal_session_account(request)},
    )


@require_POST
def help_vote_view(request: HttpRequest, pk: int) -> HttpResponse:
    article = selectors.public_article_get(pk=pk)
    counted = services.article_vote(
        article=article, voter=_voter(request), helpful=request.POST.get("helpful") == "yes"
    )
    if counted:
        messages.success(request, _("Thank you for your feedback."))
    else:
        messages.info(request, _("You have already rated this article."))
    return redirect("portal:help-article", pk=article.pk)


# --- surveys ----------------------------------------------------------------------------------


def _answer(
    request: HttpRequest, invitation: SurveyInvitation, account: PortalAccount | None
) -> HttpResponse:
    fields = answer_fields(selectors.survey_questions(invitation.survey))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.survey_answer(invitation=invitation, data=request.POST.dict())
        except services.LinkRefused as error:
            return _refused(request, error)
        except DomainError as error:
            errors = {str(e.get("field")): e["message"] for e in error.errors}
        else:
            return render(
                request,
                "portal/survey_thanks.html",
                {"survey": invitation.survey, "account": account},
            )
    return render(
        request,
        "portal/survey_answer.html",
        {
            "survey": invitation.survey,
            "fields": fields,
            "errors": errors,
            "values": request.POST,
            "account": account,
        },
        status=422 if errors else 200,
    )


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(
        request,
        "portal/link_refused.html",
        {"message": error.message, "code": error.code},
        status=error.status,
    )


@require_http_methods(["GET", "POST"])
def survey_answer_view(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed survey link: answerable without an account, once, before it expires."""
    try:
        invitation = services.invitation_resolve(token)
    except services.LinkRefused as error:
        return _refused(request, error)
    return _answer(request, invitation, None)


@portal_login_required
@require_http_methods(["GET", "POST"])
def my_survey_view(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request)
    invitation = selectors.portal_survey_get(account, pk)
    try:
        services.invitation_check(invitation)
    except services.LinkRefused as error:
        return _refused(request, error)
    return _answer(request, invitation, account)

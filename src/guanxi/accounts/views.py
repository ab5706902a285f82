"""Sign-in pages, personal API tokens, and the administration of users, teams and roles."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.accounts import selectors, services
from guanxi.accounts.auth import page_actor
from guanxi.accounts.forms import LoginForm, RoleForm, TeamForm, TokenForm, UserForm
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.history import history_rows
from guanxi.core.pagination import BadCursor, keyset_page
from guanxi.core.permissions import has_perm, require_perm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """What a locked-out sign-in sees: the login page with a clear message, 429."""
    form = LoginForm(request)
    return render(request, "accounts/login.html", {"form": form, "locked_out": True}, status=429)


# --- tokens ------------------------------------------------------------------------------------


@login_required
def token_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    created_secret = None
    form = TokenForm(
        request.POST or None, initial={"expires_in_days": settings.API_TOKEN_DEFAULT_DAYS}
    )
    if request.method == "POST" and form.is_valid():
        try:
            _token, created_secret = services.api_token_create(
                actor=actor,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Token created. Copy it now: it will not be shown again."))
            form = TokenForm()
    tokens = selectors.api_token_list(actor=actor)[:200]
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": tokens, "created_secret": created_secret},
    )


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    services.api_token_revoke(actor=actor, token=selectors.api_token_get(actor=actor, pk=pk))
    messages.success(request, _("Token revoked."))
    return redirect("accounts:tokens")


# --- users -------------------------------------------------------------------------------------


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
def user_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.view")
    active = request.GET.get("active", "")
    filters = selectors.UserFilters(
        q=request.GET.get("q", "")[:100],
        team_id=_int_or_none(request.GET.get("team")),
        role_id=_int_or_none(request.GET.get("role")),
        is_active={"1": True, "0": False}.get(active),
    )
    try:
        page = keyset_page(
            selectors.user_list(actor=actor, filters=filters),
            cursor=request.GET.get("cursor"),
            limit=50,
        )
    except BadCursor:
        page = keyset_page(selectors.user_list(actor=actor, filters=filters), limit=50)
    context = {
        "page": page,
        "filters": filters,
        "active": active,
        "teams": selectors.team_list(actor=actor),
        "roles": selectors.role_list(actor=actor),
        "can_admin": has_perm(actor, "accounts.admin"),
    }
    template = "accounts/users.html#rows" if request.htmx else "accounts/users.html"  # type: ignore[attr-defined]  # set by django-htmx's middleware
    return render(request, template, context)


@login_required
def user_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.admin")
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=actor,
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                email=data["email"],
                team=data["team"],
                role=data["role"],
                is_active=data["is_active"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user})
            return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "editing": None})


@login_required
def user_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.admin")
    user = selectors.user_get(actor=actor, pk=pk)
    initial = {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "team": user.team_id,
        "role": user.role_id,
        "is_active": user.is_active,
        "version": user.version,
    }
    form = UserForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                actor=actor,
                user=user,
                version=data["version"],
                display_name=data["display_name"],
                email=data["email"],
                team=data["team"],
                role=data["role"],
                is_active=data["is_active"],
                password=data["password"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("User %(name)s saved.") % {"name": user.username})
            return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "editing": user})


@login_required
def user_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    user = selectors.user_get(actor=actor, pk=pk)
    return render(
        request,
        "core/history.html",
        {"object": user, "rows": history_rows(user), "back_url": "accounts:users"},
    )


# --- teams -------------------------------------------------------------------------------------


@login_required
def team_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.view")
    return render(
        request,
        "accounts/teams.html",
        {"teams": selectors.team_list(actor=actor), "can_admin": has_perm(actor, "accounts.admin")},
    )


@login_required
def team_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.admin")
    form = TeamForm(request.POST or None, initial={"parent": request.GET.get("parent")})
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(
                actor=actor, name=form.cleaned_data["name"], parent=form.cleaned_data["parent"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("accounts:teams")
    return render(request, "accounts/team_form.html", {"form": form, "editing": None})


@login_required
def team_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.admin")
    team = selectors.team_get(actor=actor, pk=pk)
    initial = {"name": team.name, "parent": team.parent_id, "version": team.version}
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(
                actor=actor,
                team=team,
                version=form.cleaned_data["version"],
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Team %(name)s saved.") % {"name": team.name})
            return redirect("accounts:teams")
    return render(request, "accounts/team_form.html", {"form": form, "editing": team})


@login_required
def team_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_get(actor=page_actor(request), pk=pk)
    return render(
        request,
        "core/history.html",
        {"object": team, "rows": history_rows(team), "back_url": "accounts:teams"},
    )


# --- roles -------------------------------------------------------------------------------------


@login_required
def role_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.view")
    return render(
        request,
        "accounts/roles.html",
        {"roles": selectors.role_list(actor=actor), "can_admin": has_perm(actor, "accounts.admin")},
    )


@login_required
def role_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.admin")
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            role = services.role_create(
                actor=actor,
                name=data["name"],
                code=data["code"],
                description=data["description"],
                permissions=data["permissions"],
                data_scope=data["data_scope"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Role %(name)s created.") % {"name": role.name})
            return redirect("accounts:roles")
    return render(request, "accounts/role_form.html", {"form": form, "editing": None})


@login_required
def role_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "accounts.admin")
    role = selectors.role_get(actor=actor, pk=pk)
    initial = {
        "name": role.name,
        "code": role.code,
        "description": role.description,
        "data_scope": role.data_scope,
        "permissions": role.permissions,
        "version": role.version,
    }
    form = RoleForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.role_update(
                actor=actor,
                role=role,
                version=data["version"],
                name=data["name"],
                description=data["description"],
                permissions=data["permissions"],
                data_scope=data["data_scope"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Role %(name)s saved.") % {"name": role.name})
            return redirect("accounts:roles")
    return render(request, "accounts/role_form.html", {"form": form, "editing": role})


@login_required
def role_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    role = selectors.role_get(actor=page_actor(request), pk=pk)
    return render(
        request,
        "core/history.html",
        {"object": role, "rows": history_rows(role), "back_url": "accounts:roles"},
    )

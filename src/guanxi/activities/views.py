"""Activities pages: "my day", the task list with filters and bulk completion, task forms and
detail, the calendar (month/week) and its iCalendar feed, notifications with the top-bar bell,
and the tasks panel of the customer 360 page."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from guanxi.accounts.auth import page_actor
from guanxi.accounts.models import User
from guanxi.activities import selectors, services
from guanxi.activities.forms import QuickAddForm, TaskFilterForm, TaskForm
from guanxi.activities.ical import feed_calendar
from guanxi.activities.models import Status, Task
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.history import history_rows
from guanxi.core.pagination import BadCursor, keyset_page
from guanxi.core.permissions import has_perm

PAGE_SIZE = 50


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _toast(response: HttpResponse, text: str, level: str = "success") -> HttpResponse:
    trigger_client_event(response, "toast", {"text": text, "level": level})
    return response


def _owners(actor: User) -> Any:
    """Whom the actor may give a task to; None (no owner field) without sales.create."""
    if not has_perm(actor, "sales.create"):
        return None
    from guanxi.customers.selectors import assignable_users

    return assignable_users(actor=actor)


def _customer(actor: User, customer_id: int | None) -> Any:
    if customer_id is None:
        return None
    from guanxi.customers.selectors import customer_get

    return customer_get(actor=actor, pk=customer_id)


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _query_without_cursor(params: QueryDict) -> str:
    return urlencode([(k, v) for k, values in params.lists() for v in values if k != "cursor"])


# ---------------------------------------------------------------- my day


def _my_day_context(actor: User) -> dict[str, Any]:
    day = selectors.my_day(actor=actor)
    return {
        "day": day,
        "now": timezone.now(),
        "quick_form": QuickAddForm(initial={"due_date": day.today}),
        "can_close_follow_ups": has_perm(actor, "customers.view"),
    }


@login_required
@require_GET
def my_day_view(request: HttpRequest) -> HttpResponse:
    """Today's and overdue tasks and the grading follow-ups due, with quick add."""
    actor = page_actor(request)
    return render(request, "activities/my_day.html", _my_day_context(actor))


@login_required
@require_POST
def quick_add_view(request: HttpRequest) -> HttpResponse:
    """One-line task for the actor (on "my day" or a customer's panel)."""
    actor = page_actor(request)
    form = QuickAddForm(request.POST)
    customer = None
    if form.is_valid():
        customer = _customer(actor, form.cleaned_data.get("customer"))
        day = form.cleaned_data.get("due_date")
        try:
            services.task_create(
                actor=actor,
                owner=actor,
                title=form.cleaned_data["title"],
                due_at=services.day_start(day) if day else None,
                all_day=day is not None,
                customer=customer,
            )
        except DomainError as error:
            apply_domain_error(form, error)
    if not _is_htmx(request):
        if form.errors:
            messages.error(request, " ".join(str(e) for e in form.errors.get("title", [])))
        else:
            messages.success(request, _("Task added."))
        return redirect(_safe_next(request, reverse("activities:my-day")))
    if customer is not None:
        context = _panel_context(actor, customer)
        context["quick_form"] = form if form.errors else context["quick_form"]
        template = "activities/customer_tasks.html"
    else:
        context = _my_day_context(actor)
        if form.errors:
            context["quick_form"] = form
        template = "activities/my_day.html#day"
    response = render(request, template, context)
    return response if form.errors else _toast(response, _("Task added."))


# ---------------------------------------------------------------- task list


@login_required
@require_GET
def task_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    filter_form = TaskFilterForm(request.GET)
    filters = filter_form.filters()
    raw_customer = request.GET.get("customer", "")
    filters.customer_id = int(raw_customer) if raw_customer.isdigit() else None
    try:
        page = keyset_page(
            selectors.task_list(actor=actor, filters=filters),
            cursor=request.GET.get("cursor"),
            limit=PAGE_SIZE,
            ordering=filters.ordering,
        )
    except BadCursor:
        return redirect(f"{reverse('activities:tasks')}?{_query_without_cursor(request.GET)}")
    context = {
        "page": page,
        "rows": _rows(page.items),
        "now": timezone.now(),
        "query": _query_without_cursor(request.GET),
        "filter_form": filter_form,
    }
    if _is_htmx(request) and request.GET.get("cursor"):
        return render(request, "activities/tasks.html#rows", context)
    return render(request, "activities/tasks.html", context)


def _rows(tasks: list[Task]) -> list[dict[str, Any]]:
    today_start, _end = selectors.day_bounds(timezone.localdate())
    return [
        {
            "task": task,
            "overdue": task.status == Status.OPEN
            and task.due_at is not None
            and task.due_at < today_start,
            "related": selectors.related_label(task),
        }
        for task in tasks
    ]


@login_required
@require_POST
def tasks_complete_view(request: HttpRequest) -> HttpResponse:
    """Bulk complete the ticked tasks (those the actor may edit)."""
    actor = page_actor(request)
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    done = services.tasks_complete(actor=actor, ids=ids)
    messages.success(request, _("%(count)d tasks completed.") % {"count": done})
    return redirect(_safe_next(request, reverse("activities:tasks")))


# ---------------------------------------------------------------- one task


@login_required
@require_http_methods(["GET", "POST"])
def task_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    owners = _owners(actor)
    raw_customer = request.GET.get("customer", "")
    initial: dict[str, Any] = {"customer": int(raw_customer)} if raw_customer.isdigit() else {}
    form = TaskForm(request.POST or None, owners=owners, initial=initial)
    customer = _customer(actor, initial.get("customer"))
    if request.method == "POST" and form.is_valid():
        customer = _customer(actor, form.cleaned_data.get("customer"))
        values = form.values()
        owner = values.pop("owner", None) or actor
        try:
            task = services.task_create(actor=actor, owner=owner, customer=customer, **values)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Task created."))
            return redirect("activities:task", pk=task.pk)
    return render(
        request,
        "activities/task_form.html",
        {"form": form, "task": None, "customer": customer},
    )


@login_required
@require_GET
def task_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    task = selectors.task_get(actor=actor, pk=pk)
    return render(
        request,
        "activities/task_detail.html",
        {
            "task": task,
            "related": selectors.related_label(task),
            "history": history_rows(task, limit=20),
            "can_edit": task.owner_id == actor.pk or has_perm(actor, "sales.edit"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    task = selectors.task_get(actor=actor, pk=pk)
    if task.owner_id != actor.pk and not has_perm(actor, "sales.edit"):
        raise PermissionDenied
    owners = _owners(actor)
    form = TaskForm(request.POST or None, owners=owners, initial=TaskForm.initial_for(task))
    if request.method == "POST" and form.is_valid():
        values = form.values()
        version = form.cleaned_data.get("version")
        try:
            services.task_update(actor=actor, task=task, version=version, **values)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Task saved."))
            return redirect("activities:task", pk=task.pk)
    return render(
        request,
        "activities/task_form.html",
        {"form": form, "task": task, "customer": task.customer},
    )


SNOOZE_CHOICES = ("hour", "tomorrow", "week")


def snooze_until(task: Task, choice: str, now: dt.datetime) -> dt.datetime:
    """When a snoozed task is due again: in an hour, tomorrow, or in a week (at its time)."""
    if choice == "hour":
        return now + dt.timedelta(hours=1)
    days = 1 if choice == "tomorrow" else 7
    local_now = timezone.localtime(now)
    base_time = (
        timezone.localtime(task.due_at).time()
        if task.due_at is not None and not task.all_day
        else dt.time(9, 0)
    )
    day = local_now.date() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, base_time))


@login_required
@require_POST
def task_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Complete, reopen, cancel or snooze a task. HTMX gets the row back (or nothing when
    it leaves the list) and a toast; a plain post goes back where it came from."""
    actor = page_actor(request)
    task = selectors.task_get(actor=actor, pk=pk)
    raw_version = request.POST.get("version", "")
    version = int(raw_version) if raw_version.isdigit() else None
    try:
        if action == "complete":
            task = services.task_complete(actor=actor, task=task, version=version)
            text = _("Task done.")
        elif action == "reopen":
            task = services.task_reopen(actor=actor, task=task, version=version)
            text = _("Task reopened.")
        elif action == "cancel":
            task = services.task_cancel(actor=actor, task=task, version=version)
            text = _("Task cancelled.")
        elif action == "snooze":
            choice = request.POST.get("until", "tomorrow")
            if choice not in SNOOZE_CHOICES:
                raise DomainError(_("Choose when to be reminded again."), field="until")
            until = snooze_until(task, choice, timezone.now())
            task = services.task_snooze(actor=actor, task=task, until=until, version=version)
            text = _("Task snoozed.")
        else:
            raise Http404
    except DomainError as error:
        if _is_htmx(request):
            return _toast(HttpResponse(status=204), error.message, "danger")
        messages.error(request, error.message)
        return redirect(_safe_next(request, reverse("activities:task", args=[pk])))
    if _is_htmx(request):
        return _toast(HttpResponse(""), text)
    messages.success(request, text)
    return redirect(_safe_next(request, reverse("activities:task", args=[pk])))


@login_required
@require_POST
def follow_up_done_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a grading follow-up from "my day", through grading's own service."""
    from guanxi.grading import selectors as grading_selectors
    from guanxi.grading import services as grading_services

    actor = page_actor(request)
    follow_up = grading_selectors.follow_up_get(actor=actor, pk=pk)
    try:
        grading_services.follow_up_close(actor=actor, follow_up=follow_up)
    except DomainError as error:
        if _is_htmx(request):
            return _toast(HttpResponse(status=204), error.message, "danger")
        messages.error(request, error.message)
    else:
        if _is_htmx(request):
            return _toast(HttpResponse(""), _("Follow-up done."))
        messages.success(request, _("Follow-up done."))
    return redirect("activities:my-day")


# ---------------------------------------------------------------- calendar


def _parse_day(raw: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


@login_required
@require_GET
def calendar_view(request: HttpRequest) -> HttpResponse:
    """A month grid (or one week) of the actor's tasks by due day."""
    actor = page_actor(request)
    today = timezone.localdate()
    anchor = _parse_day(request.GET.get("date", ""), today)
    mode = "week" if request.GET.get("view") == "week" else "month"
    if mode == "week":
        start = anchor - dt.timedelta(days=anchor.weekday())
        weeks = [[start + dt.timedelta(days=i) for i in range(7)]]
        previous, following = start - dt.timedelta(days=7), start + dt.timedelta(days=7)
    else:
        weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(
            anchor.year, anchor.month
        )
        first = anchor.replace(day=1)
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
    start, end = weeks[0][0], weeks[-1][-1] + dt.timedelta(days=1)
    by_day: dict[dt.date, list[Task]] = {}
    for task in selectors.calendar_tasks(actor=actor, start=start, end=end):
        if task.due_at is not None:
            by_day.setdefault(timezone.localtime(task.due_at).date(), []).append(task)
    grid = [
        [
            {"day": day, "tasks": by_day.get(day, []), "in_month": day.month == anchor.month}
            for day in week
        ]
        for week in weeks
    ]
    token = selectors.calendar_token_active(actor=actor)
    return render(
        request,
        "activities/calendar.html",
        {
            "grid": grid,
            "mode": mode,
            "anchor": anchor,
            "today": today,
            "previous": previous,
            "following": following,
            "token": token,
            "feed_url": request.session.pop("activities_feed_url", ""),
        },
    )


@login_required
@require_POST
def calendar_token_view(request: HttpRequest) -> HttpResponse:
    """Issue a new feed address (the old one stops working) or revoke it."""
    actor = page_actor(request)
    if request.POST.get("action") == "revoke":
        services.calendar_tokens_revoke(actor=actor)
        messages.success(request, _("The calendar feed address no longer works."))
    else:
        _token, secret = services.calendar_token_issue(actor=actor)
        request.session["activities_feed_url"] = request.build_absolute_uri(
            reverse("activities:feed", args=[secret])
        )
        messages.success(
            request, _("Your new calendar feed address is below; it is shown only once.")
        )
    return redirect("activities:calendar")


@require_GET
def calendar_feed_view(request: HttpRequest, secret: str) -> HttpResponse:
    """The iCalendar feed a calendar app subscribes to; the secret in the URL is the only
    credential, so an unknown or revoked one is a 404."""
    user = selectors.calendar_token_user(secret=secret)
    if user is None:
        raise Http404
    body = feed_calendar(
        selectors.feed_tasks(user=user),
        host=request.get_host().split(":")[0] or "guanxi",
        base_url=getattr(settings, "GUANXI_BASE_URL", "").rstrip("/")
        or request.build_absolute_uri("/").rstrip("/"),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="guanxi-tasks.ics"'
    return response


# ---------------------------------------------------------------- notifications


@require_GET
def bell_view(request: HttpRequest) -> HttpResponse:
    """The top bar's bell with the unread count (loaded by HTMX after the page). A signed-out
    poll gets 204, which HTMX leaves alone, rather than the login page inside the bar."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    actor = page_actor(request)
    # Rendered without the request: the layout's context processors (navigation, the role)
    # would cost queries on every poll and the bell needs none of them.
    unread = selectors.unread_count(actor=actor)
    return HttpResponse(render_to_string("activities/_bell.html", {"unread": unread}))


@login_required
@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    before = None
    raw = request.GET.get("before", "")
    if raw:
        try:
            before = dt.datetime.fromisoformat(raw)
        except ValueError:
            before = None
        if before is not None and timezone.is_naive(before):
            before = None
    unread_only = request.GET.get("unread") == "1"
    rows, cursor = selectors.notification_rows(
        actor=actor, unread_only=unread_only, before=before, limit=PAGE_SIZE
    )
    return render(
        request,
        "activities/notifications.html",
        {
            "rows": rows,
            "next_before": cursor.isoformat() if cursor else "",
            "unread_only": unread_only,
        },
    )


@login_required
@require_POST
def notification_read_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Mark one notification read; with `open` set, follow its link afterwards."""
    actor = page_actor(request)
    url = ""
    if kind == selectors.ACTIVITY:
        notification = selectors.notification_get(actor=actor, pk=pk)
        services.notification_mark_read(actor=actor, notification=notification)
        url = notification.url
    elif kind == selectors.GRADING:
        if not services.grading_notification_mark_read(actor=actor, pk=pk):
            raise Http404
    else:
        raise Http404
    if request.POST.get("open") and url.startswith("/"):
        return redirect(url)
    if _is_htmx(request):
        response = HttpResponse("")
        trigger_client_event(response, "notifications-changed")
        return response
    return redirect(_safe_next(request, reverse("activities:notifications")))


@login_required
@require_POST
def notifications_read_all_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    count = services.notifications_mark_all_read(actor=actor)
    messages.success(request, _("%(count)d notifications marked read.") % {"count": count})
    return redirect(_safe_next(request, reverse("activities:notifications")))


# ---------------------------------------------------------------- customer 360 panel


def _panel_context(actor: User, customer: Any) -> dict[str, Any]:
    return {
        "customer": customer,
        "tasks": selectors.customer_tasks(actor=actor, customer_id=customer.pk),
        "now": timezone.now(),
        "quick_form": QuickAddForm(initial={"customer": customer.pk}),
    }


@login_required
@require_GET
def customer_tasks_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The open tasks on a customer with a quick-add line (a fragment of the 360 page)."""
    actor = page_actor(request)
    customer = _customer(actor, pk)
    return render(request, "activities/customer_tasks.html", _panel_context(actor, customer))


@login_required
@require_GET
def dashboard_panel_view(request: HttpRequest) -> HttpResponse:
    """The dashboard's panel: how many of the actor's tasks are overdue and due today, and how
    many follow-ups their customers' tiers ask for."""
    counts = selectors.my_day_counts(actor=page_actor(request))
    return render(request, "activities/dashboard_panel.html", counts)

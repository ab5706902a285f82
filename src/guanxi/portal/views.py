"""Staff pages of the portal domain: the knowledge base (list, search, write, edit, the
reply snippet), surveys (list, create, results, send) and portal invitations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.accounts.auth import page_actor
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers import selectors as customer_selectors
from guanxi.portal import selectors, services
from guanxi.portal.forms import ArticleForm, CategoryForm, ContactChoiceForm, SurveyForm

LIST_LIMIT = 200
PICKER_LIMIT = 8


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- knowledge base ---------------------------------------------------------------------------


@login_required
@require_GET
def article_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    q = request.GET.get("q", "")[:100]
    category_id = _int(request.GET.get("category"))
    articles = list(selectors.article_list(actor=actor, q=q, category_id=category_id)[:LIST_LIMIT])
    context = {
        "articles": articles,
        "q": q,
        "category_id": category_id,
        "categories": list(selectors.category_list()),
        "can_create": has_perm(actor, "service.create"),
        "category_form": CategoryForm(),
    }
    if request.htmx:  # type: ignore[attr-defined]  # set by django-htmx's middleware
        return render(request, "portal/articles.html#rows", context)
    return render(request, "portal/articles.html", context)


@login_required
@require_POST
def category_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            services.category_save(actor=actor, **form.cleaned_data)
            messages.success(request, _("Category added."))
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("portal:articles")


@login_required
@require_http_methods(["GET", "POST"])
def article_create_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "service.create")
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(actor=actor, values=form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Article saved."))
            return redirect("portal:article-detail", pk=article.pk)
    return render(request, "portal/article_form.html", {"form": form, "article": None})


@login_required
@require_http_methods(["GET", "POST"])
def article_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    require_perm(actor, "service.edit")
    article = selectors.article_get(actor=actor, pk=pk)
    initial = {
        "title_zh": article.title_zh,
        "title_en": article.title_en,
        "body_zh": article.body_zh,
        "body_en": article.body_en,
        "category_id": article.category_id,
        "visibility": article.visibility,
        "is_published": article.is_published,
        "version": article.version,
    }
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        version = values.pop("version")
        try:
            services.article_update(actor=actor, article=article, values=values, version=version)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Article saved."))
            return redirect("portal:article-detail", pk=article.pk)
    return render(request, "portal/article_form.html", {"form": form, "article": article})


@login_required
@require_GET
def article_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    article = selectors.article_get(actor=actor, pk=pk)
    return render(
        request,
        "portal/article_detail.html",
        {"article": article, "can_edit": has_perm(actor, "service.edit")},
    )


@login_required
@require_GET
def article_snippet_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The article as plain text for a reply box (?lang=zh-hans|en, else the page's)."""
    actor = page_actor(request)
    language = request.GET.get("lang") or get_language() or "en"
    text = selectors.article_snippet(actor, pk, language)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def article_picker_view(request: HttpRequest) -> HttpResponse:
    """An HTML fragment for a ticket's reply box: find a published article and insert its
    text into the textarea whose id is ?target= (with static portal/kb-insert.js)."""
    actor = page_actor(request)
    q = request.GET.get("q", "")[:100]
    articles = selectors.article_list(actor=actor, q=q, published_only=True)[:PICKER_LIMIT]
    context = {
        "articles": list(articles),
        "q": q,
        "target": request.GET.get("target", "")[:60],
        "language": request.GET.get("lang") or get_language() or "en",
    }
    return render(request, "portal/article_picker.html", context)


# --- surveys ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def survey_list_view(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    surveys = list(selectors.survey_list(actor=actor)[:LIST_LIMIT])
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey = services.survey_create(
                actor=actor,
                name=data["name"],
                kind=data["kind"],
                intro=data["intro"],
                link_days=data["link_days"],
                interval_days=data["interval_days"],
                questions=form.question_rows(),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Survey created."))
            return redirect("portal:survey-detail", pk=survey.pk)
    return render(
        request,
        "portal/surveys.html",
        {"surveys": surveys, "form": form, "can_create": has_perm(actor, "service.create")},
    )


@login_required
@require_GET
def survey_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    survey = selectors.survey_get(actor=actor, pk=pk)
    results = selectors.survey_results(actor=actor, survey=survey)
    return render(
        request,
        "portal/survey_detail.html",
        {
            "survey": survey,
            "results": results,
            "trend_chart": _trend_chart(results),
            "questions": selectors.survey_questions(survey),
            "send_form": ContactChoiceForm(),
            "can_send": has_perm(actor, "service.create"),
        },
    )


def _trend_chart(results: selectors.SurveyResults) -> dict[str, Any]:
    """The monthly trend for the chart above its table: responses as bars, the score as a line."""
    return {
        "months": [row["month"] for row in results.trend],
        "responses": [row["responses"] for row in results.trend],
        "values": [row["value"] for row in results.trend],
        "names": {
            "responses": str(_("Responses")),
            "value": str(_("NPS") if results.nps else _("CSAT %")),
        },
        "range": [-100, 100] if results.nps else [0, 100],
    }


@login_required
@require_POST
def survey_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    survey = selectors.survey_get(actor=actor, pk=pk)
    form = ContactChoiceForm(request.POST)
    if form.is_valid():
        try:
            contact = customer_selectors.contact_get(
                actor=actor, pk=form.cleaned_data["contact_id"]
            )
            services.survey_send(
                actor=actor, survey=survey, contact=contact, email=form.cleaned_data["email"]
            )
            messages.success(request, _("Invitation sent."))
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Some fields are not valid."))
    return redirect("portal:survey-detail", pk=survey.pk)


@login_required
@require_POST
def account_invite_view(request: HttpRequest) -> HttpResponse:
    """Invite a contact to the portal (from the knowledge-base or a customer's page)."""
    actor = page_actor(request)
    form = ContactChoiceForm(request.POST)
    if form.is_valid():
        try:
            contact = customer_selectors.contact_get(
                actor=actor, pk=form.cleaned_data["contact_id"]
            )
            services.portal_invite(actor=actor, contact=contact, email=form.cleaned_data["email"])
            messages.success(request, _("Portal invitation sent."))
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Some fields are not valid."))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) and back:
        return redirect(back)
    return redirect("portal:surveys")


@login_required
@require_GET
def customer_panel_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer 360 page's satisfaction panel: latest survey answers, portal accounts
    and portal invitations for the contacts."""
    actor = page_actor(request)
    data = selectors.customer_satisfaction(actor=actor, customer_id=customer_id)
    rows = [(contact, data.accounts.get(contact.pk)) for contact in data.contacts]
    return render(
        request,
        "portal/customer_panel.html",
        {
            "customer": data.customer,
            "responses": data.responses,
            "rows": rows,
            "can_invite": has_perm(actor, "service.create"),
        },
    )

"""The grading pages: schemes, the editor, runs and previews, a customer's grades with
overrides, follow-ups and notifications, and the reports."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.accounts.models import Role
from guanxi.customers.models import Customer
from guanxi.grading.models import (
    ChangeReason,
    CustomerGrade,
    CustomerMetrics,
    EvaluationRun,
    FollowUp,
    FollowUpStatus,
    GradeChange,
    Notification,
    RunStatus,
    Scheme,
    Tier,
)
from guanxi.grading.presets import PRESETS
from guanxi.grading.services import evaluation_run

# session, user, role, the user's team (page header), schemes, their tiers, installed codes
SCHEMES_QUERIES = 7
# session, user, role, customer, grades, the tiers of their schemes, history
GRADES_QUERIES = 7


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx() -> dict[str, str]:
    return {"HX-Request": "true"}


@pytest.fixture
def graded(customer_with: Callable[..., Customer], grade: Any) -> dict[str, Any]:
    """The wealth-tier scheme evaluated on a diamond, a platinum and a mass customer."""
    diamond = customer_with(
        monthly_average_assets=Decimal("6000000"),
        revenue_12m=Decimal("300000"),
        margin_12m=Decimal("60000"),
    )
    platinum = customer_with(
        monthly_average_assets=Decimal("2000000"),
        revenue_12m=Decimal("150000"),
        margin_12m=Decimal("30000"),
        interactions_90d=4,
    )
    mass = customer_with(
        monthly_average_assets=Decimal("1000"),
        revenue_12m=Decimal("50000"),
        margin_12m=Decimal("10000"),
        interactions_90d=12,
    )
    grade("wealth-tier")
    scheme = Scheme.objects.get(code="wealth-tier")
    return {
        "scheme": scheme,
        "diamond": diamond,
        "platinum": platinum,
        "mass": mass,
        "rep": diamond.owner,
        "tiers": {tier.code: tier for tier in scheme.tiers.all()},
    }


def scheme_post(scheme: Scheme, **changes: Any) -> dict[str, str]:
    """The edit form as the browser sends it for the scheme as stored, plus changes.

    Tier fields are "tiers-<n>-<name>"; the scheme's own fields are plain names.
    """
    tiers = list(scheme.tiers.order_by("rank"))
    data: dict[str, str] = {
        "name_zh": scheme.name_zh,
        "name_en": scheme.name_en,
        "description": scheme.description,
        "method": scheme.method,
        "schedule": scheme.schedule,
        "retention_ranks": str(scheme.retention_ranks),
        "config": json.dumps(scheme.config),
        "version": str(scheme.version),
        "tiers-TOTAL_FORMS": str(len(tiers)),
        "tiers-INITIAL_FORMS": str(len(tiers)),
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "1000",
    }
    if scheme.is_active:
        data["is_active"] = "on"
    for index, tier in enumerate(tiers):
        prefix = f"tiers-{index}-"
        data.update(
            {
                prefix + "ORDER": str(index + 1),
                prefix + "code": tier.code,
                prefix + "name_zh": tier.name_zh,
                prefix + "name_en": tier.name_en,
                prefix + "color": tier.color,
                prefix + "condition": tier.condition,
                prefix + "follow_up_days": str(tier.follow_up_days or ""),
                prefix + "preferred_channels": ", ".join(tier.preferred_channels),
                prefix + "sla_class": tier.sla_class,
                prefix + "points_multiplier": str(tier.points_multiplier),
                prefix + "max_discount_percent": str(tier.max_discount_percent),
                prefix + "account_manager_level": tier.account_manager_level,
                prefix + "care_actions": ", ".join(tier.care_actions),
            }
        )
        if tier.is_fallback:
            data[prefix + "is_fallback"] = "on"
    data.update(changes)
    return data


def tier_snapshot(scheme: Scheme) -> list[tuple[Any, ...]]:
    return list(
        Tier.objects.filter(scheme=scheme)
        .order_by("rank")
        .values_list("code", "name_en", "condition", "rank", "color", "follow_up_days")
    )


# --- schemes -----------------------------------------------------------------------------------


def test_the_schemes_page_lists_schemes_and_the_presets_not_yet_installed(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    response = client_for(admin_user).get(reverse("grading:schemes"))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'data-scheme="([\w-]+)"', html) == ["wealth-tier"]
    assert "Wealth tier (monthly average assets)" in html
    assert "Install" in html
    assert 'data-preset="wealth-tier"' not in html
    assert 'data-preset="value-tier"' in html
    assert [row["tier_count"] for row in response.context["rows"]] == [4]


def test_the_schemes_page_shows_the_names_in_chinese_for_a_chinese_reader(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    response = client_for(admin_user).get(
        reverse("grading:schemes"), headers={"Accept-Language": "zh-hans"}
    )

    assert "财富等级（月日均资产）" in response.content.decode()


def test_the_schemes_page_has_a_friendly_empty_state(admin_user: Any) -> None:
    response = client_for(admin_user).get(reverse("grading:schemes"))

    html = response.content.decode()
    assert "No grading schemes yet." in html
    assert len(re.findall(r'data-preset="', html)) == len(PRESETS)


def test_a_user_without_grading_view_is_refused_the_schemes_page(
    make_user: Callable[..., Any], teams: dict[str, Any]
) -> None:
    Role.objects.create(
        name="Clerk", code="clerk", permissions=["customers.view"], data_scope="own"
    )
    clerk = make_user("clerk", teams["east"])

    response = client_for(clerk).get(reverse("grading:schemes"))

    assert response.status_code == 403


def test_the_schemes_page_runs_a_fixed_number_of_queries(
    admin_user: Any, graded: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = client_for(admin_user)
    for code in ("value-tier", "rfm", "abc"):
        client.post(reverse("grading:preset-install"), {"preset": code})

    with django_assert_max_num_queries(SCHEMES_QUERIES):
        response = client.get(reverse("grading:schemes"))

    assert len(response.context["rows"]) == 4


def test_installing_a_preset_creates_the_scheme_and_opens_it(admin_user: Any) -> None:
    response = client_for(admin_user).post(
        reverse("grading:preset-install"), {"preset": "value-tier"}
    )

    scheme = Scheme.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("grading:scheme", args=[scheme.pk])
    assert scheme.code == "value-tier"
    assert list(scheme.tiers.values_list("code", flat=True)) == ["vip", "ordinary", "potential"]


def test_a_rep_may_not_install_a_preset(make_user: Callable[..., Any], teams: Any) -> None:
    rep = make_user("sales-rep", teams["east"])

    response = client_for(rep).post(reverse("grading:preset-install"), {"preset": "value-tier"})

    assert response.status_code == 403
    assert not Scheme.objects.exists()


def test_the_scheme_page_shows_tiers_policies_the_metric_help_and_runs(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme = graded["scheme"]

    response = client_for(admin_user).get(reverse("grading:scheme", args=[scheme.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'data-tier="([\w-]+)"', html) == ["diamond", "platinum", "gold", "mass"]
    assert "monthly_average_assets &gt;= 5000000" in html
    assert "private banker" in html
    assert "Revenue, last 12 months" in html
    assert "Sum of valid orders in the 365 days before the evaluation date." in html
    assert len(re.findall(r'data-run="\d+"', html)) == 1
    assert 'id="edit-scheme"' in html
    assert 'id="evaluate-scheme"' in html


def test_a_rep_sees_the_scheme_without_the_edit_and_evaluate_buttons(
    graded: dict[str, Any],
) -> None:
    response = client_for(graded["rep"]).get(reverse("grading:scheme", args=[graded["scheme"].pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="preview-scheme"' in html
    assert 'id="edit-scheme"' not in html
    assert 'id="evaluate-scheme"' not in html


# --- the editor --------------------------------------------------------------------------------


def test_the_edit_form_holds_the_scheme_and_one_blank_tier_row(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme = graded["scheme"]

    response = client_for(admin_user).get(reverse("grading:scheme-edit", args=[scheme.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert len(re.findall(r'data-tier-form="\d+"', html)) == 5
    assert 'name="tiers-0-condition"' in html
    assert f'name="version" value="{scheme.version}"' in html
    assert 'name="code"' not in html


def test_saving_the_edit_form_changes_the_scheme_and_its_tiers(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme = graded["scheme"]
    data = scheme_post(
        scheme,
        name_en="Wealth tier 2026",
        **{"tiers-2-condition": "monthly_average_assets >= 200000", "tiers-2-color": "success"},
    )

    response = client_for(admin_user).post(reverse("grading:scheme-edit", args=[scheme.pk]), data)

    scheme.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("grading:scheme", args=[scheme.pk])
    assert scheme.name_en == "Wealth tier 2026"
    assert scheme.version == 2
    assert tier_snapshot(scheme)[2] == (
        "gold",
        "Gold",
        "monthly_average_assets >= 200000",
        3,
        "success",
        30,
    )


def test_a_tier_row_can_be_deleted_and_the_rest_reordered(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme = graded["scheme"]
    data = scheme_post(
        scheme, **{"tiers-1-DELETE": "on", "tiers-0-ORDER": "3", "tiers-2-ORDER": "1"}
    )

    response = client_for(admin_user).post(reverse("grading:scheme-edit", args=[scheme.pk]), data)

    assert response.status_code == 302
    assert [row[0] for row in tier_snapshot(scheme)] == ["gold", "diamond", "mass"]


def test_an_unknown_metric_is_shown_on_the_form_and_changes_nothing(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme = graded["scheme"]
    before = tier_snapshot(scheme)
    data = scheme_post(scheme, name_en="Renamed", **{"tiers-0-condition": "turnover > 5"})

    response = client_for(admin_user).post(reverse("grading:scheme-edit", args=[scheme.pk]), data)

    html = response.content.decode()
    scheme.refresh_from_db()
    assert response.status_code == 200
    assert "data-form-error" in html
    assert "Unknown metric “turnover”." in html
    assert "turnover &gt; 5</textarea>" in html
    assert (scheme.name_en, scheme.version) == ("Wealth tier (monthly average assets)", 1)
    assert tier_snapshot(scheme) == before


def test_an_unreadable_condition_names_the_tier(admin_user: Any, graded: dict[str, Any]) -> None:
    scheme = graded["scheme"]
    data = scheme_post(scheme, **{"tiers-1-condition": "monthly_average_assets >>= 5"})

    response = client_for(admin_user).post(reverse("grading:scheme-edit", args=[scheme.pk]), data)

    errors = re.findall(r"data-form-error>(.*?)</div>", response.content.decode(), re.S)
    assert response.status_code == 200
    assert len(errors) == 1
    assert "Platinum: " in errors[0]


def test_a_stale_version_is_refused(admin_user: Any, graded: dict[str, Any]) -> None:
    scheme = graded["scheme"]
    before = tier_snapshot(scheme)
    Scheme.objects.filter(pk=scheme.pk).update(version=2, name_en="Changed meanwhile")
    data = scheme_post(scheme, name_en="Mine", version="1")

    response = client_for(admin_user).post(reverse("grading:scheme-edit", args=[scheme.pk]), data)

    scheme.refresh_from_db()
    assert response.status_code == 200
    assert "Someone else changed this record after you opened it." in response.content.decode()
    assert (scheme.name_en, scheme.version) == ("Changed meanwhile", 2)
    assert tier_snapshot(scheme) == before


def test_config_must_be_a_json_object(admin_user: Any, graded: dict[str, Any]) -> None:
    scheme = graded["scheme"]

    response = client_for(admin_user).post(
        reverse("grading:scheme-edit", args=[scheme.pk]),
        scheme_post(scheme, config="{eligible: 1"),
    )

    assert response.status_code == 200
    assert 'data-field-error="config"' in response.content.decode()
    assert Scheme.objects.get(pk=scheme.pk).version == 1


def test_add_a_tier_row_redisplays_the_form_with_one_more_blank_row(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme = graded["scheme"]
    data = scheme_post(scheme, add_tier="1")

    response = client_for(admin_user).post(reverse("grading:scheme-edit", args=[scheme.pk]), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert len(re.findall(r'data-tier-form="\d+"', html)) == 5
    assert "data-field-error" not in html
    assert Scheme.objects.get(pk=scheme.pk).version == 1


def test_creating_a_scheme_with_the_blank_row_filled_in(admin_user: Any) -> None:
    data = {
        "code": "big-spenders",
        "name_zh": "大客户",
        "name_en": "Big spenders",
        "method": "thresholds",
        "kinds": ["enterprise", "government"],
        "schedule": "weekly",
        "retention_ranks": "1",
        "is_active": "on",
        "config": "",
        "tiers-TOTAL_FORMS": "2",
        "tiers-INITIAL_FORMS": "0",
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "1000",
        "tiers-0-code": "big",
        "tiers-0-name_zh": "大",
        "tiers-0-name_en": "Big",
        "tiers-0-color": "danger",
        "tiers-0-condition": "revenue_12m >= 1000000",
        "tiers-0-preferred_channels": "visit，phone_call",
        "tiers-0-points_multiplier": "2",
        "tiers-0-max_discount_percent": "10",
        "tiers-0-care_actions": "annual dinner, gift",
        "tiers-1-code": "rest",
        "tiers-1-name_zh": "其他",
        "tiers-1-name_en": "Rest",
        "tiers-1-color": "secondary",
        "tiers-1-is_fallback": "on",
        "tiers-1-points_multiplier": "1",
        "tiers-1-max_discount_percent": "0",
    }

    response = client_for(admin_user).post(reverse("grading:scheme-create"), data)

    scheme = Scheme.objects.get(code="big-spenders")
    big = scheme.tiers.get(code="big")
    assert response.status_code == 302
    assert (scheme.kinds, scheme.schedule, scheme.is_active) == (
        ["enterprise", "government"],
        "weekly",
        True,
    )
    assert (big.preferred_channels, big.care_actions) == (
        ["visit", "phone_call"],
        ["annual dinner", "gift"],
    )
    assert list(scheme.tiers.values_list("code", "is_fallback")) == [
        ("big", False),
        ("rest", True),
    ]


def test_a_rep_may_not_open_the_editor(graded: dict[str, Any]) -> None:
    response = client_for(graded["rep"]).get(
        reverse("grading:scheme-edit", args=[graded["scheme"].pk])
    )

    assert response.status_code == 403


# --- runs --------------------------------------------------------------------------------------


def test_the_run_page_polls_itself_while_the_run_is_running(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    run = EvaluationRun.objects.create(
        scheme=graded["scheme"], status=RunStatus.RUNNING, step="grading", progress=50
    )
    url = reverse("grading:run", args=[run.pk])

    page = client_for(admin_user).get(url)
    partial = client_for(admin_user).get(url, headers=htmx())

    assert f'hx-get="{url}" hx-trigger="every 1s"' in page.content.decode()
    assert partial.content.decode().lstrip().startswith('<div id="run"')
    assert 'hx-trigger="every 1s"' in partial.content.decode()
    assert 'data-progress="50"' in partial.content.decode()
    assert "<html" not in partial.content.decode()


def test_the_run_page_stops_polling_when_the_run_is_done(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    run = EvaluationRun.objects.filter(scheme=graded["scheme"]).get()

    response = client_for(admin_user).get(reverse("grading:run", args=[run.pk]), headers=htmx())

    html = response.content.decode()
    assert 'data-run-status="completed"' in html
    assert "hx-trigger" not in html
    assert re.findall(r"data-(evaluated|changed)>(\d+)<", html) == [
        ("evaluated", "3"),
        ("changed", "3"),
    ]


def test_a_failed_run_shows_its_message(admin_user: Any, graded: dict[str, Any]) -> None:
    run = EvaluationRun.objects.create(
        scheme=graded["scheme"], status=RunStatus.FAILED, message="Unknown metric “x”."
    )

    response = client_for(admin_user).get(reverse("grading:run", args=[run.pk]))

    html = response.content.decode()
    assert 'hx-trigger="every 1s"' not in html  # a finished run stops polling
    assert "Unknown metric “x”." in html


def test_preview_redirects_to_the_run_which_shows_the_migration_matrix(
    admin_user: Any, graded: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    scheme, tiers = graded["scheme"], graded["tiers"]

    with django_capture_on_commit_callbacks(execute=True):
        started = client_for(admin_user).post(reverse("grading:scheme-preview", args=[scheme.pk]))
    run = EvaluationRun.objects.get(is_preview=True)
    response = client_for(admin_user).get(started["Location"])

    preview = response.context["preview"]
    html = response.content.decode()
    assert started["Location"] == reverse("grading:run", args=[run.pk])
    assert run.status == RunStatus.COMPLETED
    # The job refreshed the metrics from the facts: nobody holds assets, all would be mass.
    assert preview["columns"] == ["Diamond", "Platinum", "Gold", "Mass", "Not graded"]
    assert [[cell["count"] for cell in row["cells"]] for row in preview["rows"]] == [
        [0, 0, 0, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
    ]
    assert re.findall(r'class="table-secondary text-muted" data-count="(\d+)"', html) == ["1"]
    assert f'href="/customers/{graded["diamond"].pk}/"' in html
    assert f'href="/customers/{graded["platinum"].pk}/"' in html
    assert "2 of 3 customers would change tier." in html
    assert CustomerGrade.objects.get(customer=graded["diamond"]).tier == tiers["diamond"]


def test_evaluate_now_runs_the_job_and_shows_the_counts(
    admin_user: Any, graded: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    scheme = graded["scheme"]

    with django_capture_on_commit_callbacks(execute=True):
        started = client_for(admin_user).post(reverse("grading:scheme-evaluate", args=[scheme.pk]))
    response = client_for(admin_user).get(started["Location"])

    html = response.content.decode()
    assert re.findall(r"data-(evaluated|changed)>(\d+)<", html) == [
        ("evaluated", "3"),
        ("changed", "2"),
    ]
    assert CustomerGrade.objects.get(customer=graded["diamond"]).tier.code == "mass"


def test_a_rep_may_preview_but_not_evaluate(
    graded: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    url = reverse("grading:scheme-evaluate", args=[graded["scheme"].pk])

    response = client_for(graded["rep"]).post(url)

    assert response.status_code == 403
    assert EvaluationRun.objects.count() == 1


# --- a customer's grades -----------------------------------------------------------------------


def test_the_customer_fragment_explains_the_grade_with_the_metric_readings(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    customer = graded["diamond"]

    response = client_for(admin_user).get(
        reverse("grading:customer-grades", args=[customer.pk]), headers=htmx()
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'data-tier="diamond"' in html
    assert "text-bg-dark" in html
    assert "monthly_average_assets &gt;= 5000000</code>" in html
    assert re.findall(r'data-reading="(\w+)"', html) == ["monthly_average_assets"]
    assert "Monthly average assets" in html
    assert "6,000,000 CNY" in html
    assert "data-override-form" in html
    assert re.findall(r'data-change="\d+"', html) != []


def test_the_fallback_tier_is_explained_as_the_fallback(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    response = client_for(admin_user).get(
        reverse("grading:customer-grades", args=[graded["mass"].pk])
    )

    assert "data-fallback" in response.content.decode()


def test_a_foreign_customers_fragment_is_not_found(
    make_user: Callable[..., Any], teams: dict[str, Any], graded: dict[str, Any]
) -> None:
    stranger = make_user("sales-rep", teams["north"])

    response = client_for(stranger).get(
        reverse("grading:customer-grades", args=[graded["diamond"].pk])
    )

    assert response.status_code == 404


def test_a_rep_sees_the_grades_without_the_override_form(graded: dict[str, Any]) -> None:
    response = client_for(graded["rep"]).get(
        reverse("grading:customer-grades", args=[graded["diamond"].pk])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-tier="diamond"' in html
    assert "data-override-form" not in html


def test_the_customer_fragment_runs_a_fixed_number_of_queries(
    admin_user: Any,
    graded: dict[str, Any],
    grade: Any,
    django_assert_max_num_queries: Any,
) -> None:
    grade("value-tier")
    grade("credit-rating")
    customer = graded["diamond"]
    client = client_for(admin_user)

    with django_assert_max_num_queries(GRADES_QUERIES):
        response = client.get(reverse("grading:customer-grades", args=[customer.pk]))

    assert len(response.context["cards"]) == 2  # credit rating: not eligible, not graded


def test_an_override_then_its_clearing_each_refresh_the_fragment_and_write_history(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme, tiers, customer = graded["scheme"], graded["tiers"], graded["mass"]
    url = reverse("grading:customer-override", args=[customer.pk])
    until = timezone.localdate() + dt.timedelta(days=30)
    client = client_for(admin_user)

    overridden = client.post(
        url,
        {"scheme": scheme.pk, "tier": tiers["gold"].pk, "reason": "行长担保", "expires_on": until},
        headers=htmx(),
    )
    after_override = CustomerGrade.objects.get(customer=customer, scheme=scheme)
    cleared = client.post(url, {"scheme": scheme.pk, "action": "clear"}, headers=htmx())

    grade = CustomerGrade.objects.get(customer=customer, scheme=scheme)
    assert json.loads(overridden["HX-Trigger"]) == {
        "toast": {"text": "Override saved.", "level": "success"}
    }
    assert 'data-tier="gold"' in overridden.content.decode()
    assert "行长担保" in overridden.content.decode()
    assert (after_override.tier, after_override.override_tier) == (tiers["gold"], tiers["gold"])
    assert timezone.localtime(after_override.override_expires_at).date() == until
    assert json.loads(cleared["HX-Trigger"]) == {
        "toast": {"text": "Override cleared.", "level": "success"}
    }
    assert 'data-tier="mass"' in cleared.content.decode()
    assert (grade.tier, grade.override_tier) == (tiers["mass"], None)
    assert list(
        GradeChange.objects.filter(customer=customer)
        .order_by("pk")
        .values_list("reason", "from_tier__code", "to_tier__code")
    ) == [
        (ChangeReason.EVALUATION, None, "mass"),
        (ChangeReason.OVERRIDE, "mass", "gold"),
        (ChangeReason.OVERRIDE_ENDED, "gold", "mass"),
    ]


def test_an_override_without_a_reason_shows_the_error_and_changes_nothing(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme, tiers, customer = graded["scheme"], graded["tiers"], graded["mass"]

    response = client_for(admin_user).post(
        reverse("grading:customer-override", args=[customer.pk]),
        {"scheme": scheme.pk, "tier": tiers["gold"].pk, "reason": ""},
        headers=htmx(),
    )

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert 'data-field-error="reason"' in response.content.decode()
    assert CustomerGrade.objects.get(customer=customer, scheme=scheme).override_tier is None


def test_a_tier_of_another_scheme_is_refused(
    admin_user: Any, graded: dict[str, Any], grade: Any
) -> None:
    grade("value-tier")
    foreign = Tier.objects.get(scheme__code="value-tier", code="vip")
    customer = graded["mass"]

    response = client_for(admin_user).post(
        reverse("grading:customer-override", args=[customer.pk]),
        {"scheme": graded["scheme"].pk, "tier": foreign.pk, "reason": "试试"},
        headers=htmx(),
    )

    assert 'data-field-error="tier"' in response.content.decode()
    assert not CustomerGrade.objects.filter(override_tier__isnull=False).exists()


def test_a_rep_may_not_override(graded: dict[str, Any]) -> None:
    response = client_for(graded["rep"]).post(
        reverse("grading:customer-override", args=[graded["mass"].pk]),
        {"scheme": graded["scheme"].pk, "tier": graded["tiers"]["gold"].pk, "reason": "想要"},
        headers=htmx(),
    )

    assert response.status_code == 403
    assert not CustomerGrade.objects.filter(override_tier__isnull=False).exists()


# --- follow-ups and notifications --------------------------------------------------------------


@pytest.fixture
def follow_ups(graded: dict[str, Any]) -> dict[str, FollowUp]:
    today = timezone.localdate()
    rep, tiers = graded["rep"], graded["tiers"]
    return {
        "overdue": FollowUp.objects.create(
            customer=graded["diamond"],
            owner=rep,
            tier=tiers["diamond"],
            due_on=today - dt.timedelta(days=3),
            reason="no contact within the tier's interval",
        ),
        "later": FollowUp.objects.create(
            customer=graded["platinum"],
            owner=rep,
            tier=tiers["platinum"],
            due_on=today + dt.timedelta(days=5),
        ),
    }


def test_the_follow_ups_page_lists_mine_with_the_overdue_highlighted(
    graded: dict[str, Any], follow_ups: dict[str, FollowUp]
) -> None:
    response = client_for(graded["rep"]).get(reverse("grading:follow-ups"))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'data-follow-up="(\d+)"', html) == [
        str(follow_ups["overdue"].pk),
        str(follow_ups["later"].pk),
    ]
    assert f'data-follow-up="{follow_ups["overdue"].pk}" class="table-danger" data-overdue' in html
    assert html.count("data-overdue") == 1
    assert 'id="team-overview"' not in html


def test_done_by_htmx_closes_the_follow_up_and_removes_its_row(
    graded: dict[str, Any], follow_ups: dict[str, FollowUp]
) -> None:
    follow_up = follow_ups["overdue"]

    response = client_for(graded["rep"]).post(
        reverse("grading:follow-up-done", args=[follow_up.pk]), headers=htmx()
    )

    follow_up.refresh_from_db()
    assert response.status_code == 200
    assert response.content == b""
    assert json.loads(response["HX-Trigger"]) == {
        "toast": {"text": "Follow-up done.", "level": "success"}
    }
    assert follow_up.status == FollowUpStatus.DONE


def test_done_without_htmx_redirects_back_to_the_list(
    graded: dict[str, Any], follow_ups: dict[str, FollowUp]
) -> None:
    follow_up = follow_ups["later"]

    response = client_for(graded["rep"]).post(
        reverse("grading:follow-up-done", args=[follow_up.pk])
    )

    follow_up.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("grading:follow-ups")
    assert follow_up.status == FollowUpStatus.DONE


def test_someone_elses_follow_up_is_not_found(
    make_user: Callable[..., Any],
    teams: dict[str, Any],
    follow_ups: dict[str, FollowUp],
) -> None:
    stranger = make_user("sales-rep", teams["north"])

    response = client_for(stranger).post(
        reverse("grading:follow-up-done", args=[follow_ups["later"].pk])
    )

    assert response.status_code == 404
    assert FollowUp.objects.get(pk=follow_ups["later"].pk).status == FollowUpStatus.OPEN


def test_a_manager_sees_the_team_overview_and_filters_it_by_owner(
    make_user: Callable[..., Any],
    teams: dict[str, Any],
    graded: dict[str, Any],
    follow_ups: dict[str, FollowUp],
) -> None:
    manager = make_user("sales-manager", teams["sales"])
    rep = graded["rep"]

    overview = client_for(manager).get(reverse("grading:follow-ups"))
    filtered = client_for(manager).get(reverse("grading:follow-ups"), {"owner": rep.pk})

    assert 'id="team-overview"' in overview.content.decode()
    assert [
        (row["owner_id"], row["open"], row["overdue"]) for row in overview.context["owners"]
    ] == [(rep.pk, 2, 1)]
    assert overview.context["team"] == []
    assert [row["follow_up"] for row in filtered.context["team"]] == [
        follow_ups["overdue"],
        follow_ups["later"],
    ]
    assert 'id="team-follow-ups"' in filtered.content.decode()


def test_the_owner_reads_tier_changes_and_marks_them_all_read(
    graded: dict[str, Any], customer_with: Callable[..., Customer]
) -> None:
    rep, scheme = graded["rep"], graded["scheme"]
    newcomer = customer_with(monthly_average_assets=Decimal("5500000"))
    CustomerMetrics.objects.filter(customer=graded["mass"]).update(
        monthly_average_assets=Decimal("150000")
    )
    # The scheme's second evaluation: a first tier and an upgrade (the first notified no one).
    evaluation_run(run_id=EvaluationRun.objects.create(scheme=scheme).pk, refresh=False)
    client = client_for(rep)

    page = client.get(reverse("grading:follow-ups"))
    marked = client.post(reverse("grading:notifications-read"))

    html = page.content.decode()
    assert len(re.findall(r'data-notification="\d+"', html)) == 2
    assert (
        f'<a class="fw-semibold" href="/customers/{newcomer.pk}/">'
        f"{newcomer.name}</a>:\n          Not graded → Diamond "
        f'<span class="text-muted">({scheme.name_en})</span>'
    ) in html
    assert f"{graded['mass'].name}</a>:\n          Mass → Gold " in html
    assert marked.status_code == 302
    assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()
    assert "No unread notifications." in client.get(reverse("grading:follow-ups")).content.decode()


# --- reports -----------------------------------------------------------------------------------


def json_data(html: str, element_id: str) -> Any:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found is not None
    return json.loads(found.group(1))


def test_the_reports_page_passes_the_chart_data_and_shows_the_tables(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    scheme = graded["scheme"]
    today = timezone.localdate().isoformat()

    response = client_for(admin_user).get(
        reverse("grading:reports", args=[scheme.pk]), {"start": today, "end": today}
    )

    html = response.content.decode()
    distribution = json_data(html, "distribution-data")
    effort = json_data(html, "effort-data")
    assert response.status_code == 200
    assert "<script>" not in html
    assert [(serie["name"], serie["data"]) for serie in distribution["series"]] == [
        ("Diamond", [1]),
        ("Platinum", [1]),
        ("Gold", [0]),
        ("Mass", [1]),
    ]
    assert effort["tiers"] == ["Diamond", "Platinum", "Mass"]
    assert [(serie["name"], serie["data"]) for serie in effort["series"]] == [
        ("Customers", [33.3, 33.3, 33.3]),
        ("Revenue, 12 months", [60.0, 30.0, 10.0]),
        ("Margin, 12 months", [60.0, 30.0, 10.0]),
        ("Interactions, 90 days", [0.0, 25.0, 75.0]),
    ]
    assert response.context["migration"]["total"] == 3
    assert re.findall(r'class="table-secondary text-muted" data-count="(\d+)"', html) == [
        "1",
        "1",
        "1",
    ]
    assert re.findall(r'data-kotler="(\w+)">(\w+)<', html) == [
        ("accountable", "Accountable"),
        ("reactive", "Reactive"),
        ("basic", "Basic"),
    ]
    assert 'src="/static/vendor/echarts/echarts.min.js"' in html
    assert 'src="/static/grading/charts.js"' in html


def test_the_reports_migration_defaults_to_the_last_30_days(
    admin_user: Any, graded: dict[str, Any]
) -> None:
    response = client_for(admin_user).get(reverse("grading:reports", args=[graded["scheme"].pk]))

    today = timezone.localdate()
    assert (response.context["start"], response.context["end"]) == (
        today - dt.timedelta(days=30),
        today,
    )
    assert "No customer was graded on both dates." in response.content.decode()

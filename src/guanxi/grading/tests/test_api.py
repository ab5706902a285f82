from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client

from guanxi.grading.models import CustomerGrade, Scheme


def _post(url: str, data: Any, headers: dict[str, str]) -> Any:
    return Client().post(url, data=data, content_type="application/json", headers=headers)


def test_the_metric_catalogue_is_documented(admin_user: Any, bearer: Any) -> None:
    response = Client().get("/api/v1/grading/metrics", headers=bearer(admin_user))

    names = {metric["name"]: metric for metric in response.json()}
    assert {"revenue_12m", "recency_days", "payment_recovery_24m", "monthly_average_assets"} <= set(
        names
    )
    assert names["recency_days"]["description"] == "Empty when the customer has never ordered."


def test_installing_a_preset_and_evaluating_it(
    admin_user: Any, customer_with: Any, bearer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    headers = bearer(admin_user)
    customer_with()
    installed = _post("/api/v1/grading/presets/credit-rating/install", {}, headers)

    with django_capture_on_commit_callbacks(execute=True):
        started = _post(f"/api/v1/grading/schemes/{installed.json()['id']}/evaluate", {}, headers)
    run = Client().get(f"/api/v1/grading/runs/{started.json()['id']}", headers=headers).json()

    assert installed.status_code == 201
    assert [tier["code"] for tier in installed.json()["tiers"]] == ["a", "b", "c", "d", "high-risk"]
    assert started.status_code == 202
    assert run["status"] == "completed"


def test_a_scheme_with_an_unknown_metric_is_refused(admin_user: Any, bearer: Any) -> None:
    response = _post(
        "/api/v1/grading/schemes",
        {
            "code": "custom",
            "name_zh": "自定义",
            "name_en": "Custom",
            "method": "thresholds",
            "tiers": [
                {"code": "top", "name_zh": "顶级", "name_en": "Top", "condition": "profit > 5"}
            ],
        },
        bearer(admin_user),
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "Top: Unknown metric “profit”."
    assert not Scheme.objects.filter(code="custom").exists()


def test_a_rep_cannot_change_schemes(make_user: Any, bearer: Any) -> None:
    response = _post("/api/v1/grading/presets/abc/install", {}, bearer(make_user("sales-rep")))

    assert response.status_code == 403
    assert not Scheme.objects.exists()


def test_a_customers_grades_come_with_their_explanation(
    admin_user: Any, customer_with: Any, grade: Any, bearer: Any
) -> None:
    customer = customer_with(monthly_average_assets=Decimal("5000000"))
    grade("wealth-tier")

    body = (
        Client().get(f"/api/v1/customers/{customer.pk}/grades", headers=bearer(admin_user)).json()
    )

    assert body[0]["tier_code"] == "diamond"
    assert body[0]["condition"] == "monthly_average_assets >= 5000000"
    assert [(r["name"], float(r["value"])) for r in body[0]["readings"]] == [
        ("monthly_average_assets", 5000000.0)
    ]


def test_an_override_through_the_api(
    admin_user: Any, customer_with: Any, grade: Any, bearer: Any
) -> None:
    customer = customer_with(monthly_average_assets=Decimal("10"))
    grade("wealth-tier")
    scheme = Scheme.objects.get(code="wealth-tier")

    response = _post(
        f"/api/v1/customers/{customer.pk}/grade-override",
        {"scheme_id": scheme.pk, "tier_code": "gold", "reason": "VIP of a partner bank"},
        bearer(admin_user),
    )

    assert response.json()[0]["tier_code"] == "gold"
    assert response.json()[0]["overridden"] is True
    assert CustomerGrade.objects.get(customer=customer).rule_tier.code == "mass"


def test_grades_of_a_foreign_customer_answer_404(
    make_user: Any, teams: dict[str, Any], customer_with: Any, bearer: Any
) -> None:
    customer = customer_with()
    outsider = make_user("sales-rep", teams["north"])

    response = Client().get(f"/api/v1/customers/{customer.pk}/grades", headers=bearer(outsider))

    assert response.status_code == 404

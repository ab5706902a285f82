"""Each preset's boundaries, exactly at and just across each threshold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from guanxi.grading.presets import PRESETS, kotler_level


@pytest.mark.parametrize(
    ("assets", "expected"),
    [
        ("5000000", "diamond"),
        ("4999999.99", "platinum"),
        ("1000000", "platinum"),
        ("999999.99", "gold"),
        ("100000", "gold"),
        ("99999.99", "mass"),
        ("0", "mass"),
    ],
)
def test_wealth_tiers_by_monthly_average_assets(
    customer_with: Any, grade: Any, assets: str, expected: str
) -> None:
    customer = customer_with(monthly_average_assets=Decimal(assets))

    assert grade("wealth-tier")[customer.pk] == expected


def test_wealth_tiers_apply_to_individuals_only(customer_with: Any, grade: Any) -> None:
    company = customer_with(kind="enterprise", monthly_average_assets=Decimal("9000000"))

    assert company.pk not in grade("wealth-tier")


@pytest.mark.parametrize(
    ("assets", "loans", "expected"),
    [
        ("3500000", "4500000", "diamond"),
        ("3499999.99", "4600000", "platinum"),
        ("3500000", "4499999.99", "platinum"),
        ("700000", "900000", "platinum"),
        ("69999.99", "200000", "mass"),
    ],
)
def test_the_loan_standard_needs_both_assets_plus_loans_and_an_asset_floor(
    customer_with: Any, grade: Any, assets: str, loans: str, expected: str
) -> None:
    customer = customer_with(monthly_average_assets=Decimal(assets), loan_balance=Decimal(loans))

    assert grade("wealth-tier-loans")[customer.pk] == expected


def test_the_loan_standard_skips_customers_without_loans(customer_with: Any, grade: Any) -> None:
    customer = customer_with(monthly_average_assets=Decimal("9000000"))

    assert customer.pk not in grade("wealth-tier-loans")


@pytest.mark.parametrize(
    ("recovery", "days", "expected"),
    [
        ("90", 45, "a"),
        ("89.9", 45, "b"),
        ("90", 46, "b"),
        ("75", 75, "b"),
        ("74.99", 75, "c"),
        ("75", 76, "c"),
        ("60", 105, "c"),
        ("60", 106, "d"),
        ("30", 255, "d"),
        ("29.99", 100, "high-risk"),
        ("95", 256, "high-risk"),
    ],
)
def test_credit_rating_boundaries(
    customer_with: Any, grade: Any, recovery: str, days: int, expected: str
) -> None:
    customer = customer_with(payment_recovery_24m=Decimal(recovery), max_days_to_pay_24m=days)

    assert grade("credit-rating")[customer.pk] == expected


def test_customers_without_invoices_get_no_credit_rating(customer_with: Any, grade: Any) -> None:
    customer = customer_with()

    assert customer.pk not in grade("credit-rating")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {
                "revenue_12m": Decimal("100000"),
                "order_count_12m": 6,
                "order_count": 6,
                "tenure_days": 365,
            },
            "vip",
        ),
        (
            {
                "revenue_12m": Decimal("99999.99"),
                "order_count_12m": 6,
                "order_count": 6,
                "tenure_days": 365,
            },
            "ordinary",
        ),
        (
            {
                "revenue_12m": Decimal("100000"),
                "order_count_12m": 5,
                "order_count": 5,
                "tenure_days": 365,
            },
            "ordinary",
        ),
        (
            {
                "revenue_12m": Decimal("100000"),
                "order_count_12m": 6,
                "order_count": 6,
                "tenure_days": 364,
            },
            "ordinary",
        ),
        ({"order_count": 0}, "potential"),
    ],
)
def test_value_tier_boundaries(
    customer_with: Any, grade: Any, values: dict[str, Any], expected: str
) -> None:
    customer = customer_with(**values)

    assert grade("value-tier")[customer.pk] == expected


def test_abc_splits_by_cumulative_revenue_share(customer_with: Any, grade: Any) -> None:
    revenues = [500, 300, 100, 50, 30, 20, 0]
    customers = [customer_with(revenue_12m=Decimal(r)) for r in revenues]

    tiers = grade("abc")

    assert [tiers[c.pk] for c in customers] == ["a", "a", "b", "b", "c", "c", "c"]


def test_rfm_scores_quintiles_and_names_segments(customer_with: Any, grade: Any) -> None:
    best = [
        customer_with(
            recency_days=5,
            order_count=50,
            revenue_lifetime=Decimal("90000") + i,
            order_count_12m=10,
        )
        for i in range(4)
    ]
    worst = [
        customer_with(recency_days=900 + i, order_count=1, revenue_lifetime=Decimal("10"))
        for i in range(4)
    ]
    middle = [
        customer_with(recency_days=100 + i, order_count=5 + i, revenue_lifetime=Decimal("1000") + i)
        for i in range(12)
    ]
    never = customer_with(order_count=0)

    tiers = grade("rfm")

    assert {tiers[c.pk] for c in best} == {"champions"}
    assert {tiers[c.pk] for c in worst} == {"lost"}
    assert never.pk not in tiers
    assert len(middle) == 12


def test_lifecycle_stages(customer_with: Any, grade: Any) -> None:
    prospect = customer_with(order_count=0)
    churned = customer_with(order_count=3, recency_days=366, tenure_days=900)
    introduction = customer_with(order_count=1, recency_days=10, tenure_days=30)
    decline = customer_with(order_count=9, recency_days=10, tenure_days=900, revenue_trend=-1)
    growth = customer_with(order_count=9, recency_days=10, tenure_days=900, revenue_trend=1)
    maturity = customer_with(order_count=9, recency_days=10, tenure_days=900, revenue_trend=0)

    tiers = grade("lifecycle")

    assert [tiers[c.pk] for c in (prospect, churned, introduction, decline, growth, maturity)] == [
        "prospect",
        "churned",
        "introduction",
        "decline",
        "growth",
        "maturity",
    ]


def test_customer_types(customer_with: Any, grade: Any) -> None:
    key = customer_with(
        revenue_12m=Decimal("500000"), order_count=20, order_count_12m=8, tenure_days=800
    )
    new = customer_with(order_count=1, order_count_12m=1, tenure_days=90)
    regular = customer_with(order_count=4, order_count_12m=2, tenure_days=400)
    small = customer_with(order_count=1, order_count_12m=0, tenure_days=400)
    potential = customer_with(order_count=0)

    tiers = grade("customer-type")

    assert [tiers[c.pk] for c in (key, new, regular, small, potential)] == [
        "key",
        "new",
        "regular",
        "small",
        "potential",
    ]


def test_value_growth_matrix(customer_with: Any, grade: Any) -> None:
    cells = {
        "high-value": customer_with(revenue_12m=Decimal("50000"), revenue_trend=1),
        "general": customer_with(revenue_12m=Decimal("50000"), revenue_trend=0),
        "potential": customer_with(revenue_12m=Decimal("49999.99"), revenue_trend=1),
        "low-value": customer_with(revenue_12m=Decimal("100"), revenue_trend=-1),
    }

    tiers = grade("value-growth")

    assert {code: tiers[c.pk] for code, c in cells.items()} == {code: code for code in cells}


def test_operating_condition_reads_custom_fields(customer_with: Any, grade: Any) -> None:
    premium = customer_with(
        kind="enterprise", custom={"annual_profit": "10000000", "profit_growth": "10"}
    )
    first = customer_with(
        kind="enterprise", custom={"annual_profit": "9999999.99", "profit_growth": "10"}
    )
    second = customer_with(
        kind="enterprise", custom={"annual_profit": "5000", "profit_growth": "-3"}
    )
    third = customer_with(kind="enterprise", custom={"annual_profit": "-100", "profit_growth": "0"})
    unknown = customer_with(kind="enterprise")

    tiers = grade("operating-condition")

    assert [tiers.get(c.pk) for c in (premium, first, second, third, unknown)] == [
        "premium",
        "first",
        "second",
        "third",
        None,
    ]


@pytest.mark.parametrize(
    ("customers", "margin_share", "expected"),
    [
        (40, 0.8, "accountable"),
        (40, 0.3, "reactive"),
        (40, 0.1, "basic"),
        (10, 0.2, "proactive"),
        (10, 0.1, "accountable"),
        (10, 0.02, "reactive"),
        (2, 0.5, "partnership"),
        (2, 0.02, "proactive"),
        (2, 0.001, "accountable"),
    ],
)
def test_kotlers_relationship_level(customers: int, margin_share: float, expected: str) -> None:
    assert kotler_level(customers, margin_share, total_customers=100) == expected


def test_every_preset_installs_and_compiles(db: Any) -> None:
    from guanxi.grading.services import preset_install

    schemes = [preset_install(actor=None, code=code) for code in PRESETS]

    assert [scheme.code for scheme in schemes] == list(PRESETS)


@pytest.mark.parametrize(
    ("assets", "loans", "expected"),
    [
        ("700000", "899999.99", "gold"),
        ("699999.99", "2000000", "gold"),
        ("70000", "90000", "gold"),
        ("70000", "89999.99", "mass"),
        ("69999.99", "90000.01", "mass"),
    ],
)
def test_the_loan_standard_gold_and_platinum_edges(
    customer_with: Any, grade: Any, assets: str, loans: str, expected: str
) -> None:
    customer = customer_with(monthly_average_assets=Decimal(assets), loan_balance=Decimal(loans))

    assert grade("wealth-tier-loans")[customer.pk] == expected


def test_credit_c_needs_sixty_percent_recovered(customer_with: Any, grade: Any) -> None:
    customer = customer_with(payment_recovery_24m=Decimal("59.99"), max_days_to_pay_24m=105)

    assert grade("credit-rating")[customer.pk] == "d"


def test_abc_cut_offs_are_exclusive_at_the_share(customer_with: Any, grade: Any) -> None:
    customers = [customer_with(revenue_12m=Decimal(r)) for r in ("80", "15", "5")]

    tiers = grade("abc")

    # The second customer starts exactly at 80% of the revenue, the third at 95%.
    assert [tiers[c.pk] for c in customers] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"order_count": 3, "recency_days": 365, "tenure_days": 900}, "maturity"),
        ({"order_count": 3, "recency_days": 366, "tenure_days": 900}, "churned"),
        ({"order_count": 2, "recency_days": 10, "tenure_days": 180}, "introduction"),
        ({"order_count": 2, "recency_days": 10, "tenure_days": 181}, "maturity"),
        ({"order_count": 3, "recency_days": 10, "tenure_days": 180}, "maturity"),
        ({"order_count": 1, "recency_days": 10, "tenure_days": 900}, "maturity"),
    ],
)
def test_lifecycle_boundaries(
    customer_with: Any, grade: Any, values: dict[str, Any], expected: str
) -> None:
    customer = customer_with(**values)

    assert grade("lifecycle")[customer.pk] == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"revenue_12m": Decimal("499999.99"), "order_count": 9, "order_count_12m": 1}, "small"),
        ({"order_count": 1, "order_count_12m": 1, "tenure_days": 91}, "small"),
        ({"order_count": 2, "order_count_12m": 2, "tenure_days": 91}, "regular"),
        ({"order_count": 2, "order_count_12m": 1, "tenure_days": 91}, "small"),
    ],
)
def test_customer_type_boundaries(
    customer_with: Any, grade: Any, values: dict[str, Any], expected: str
) -> None:
    customer = customer_with(**{"tenure_days": 400, **values})

    assert grade("customer-type")[customer.pk] == expected


@pytest.mark.parametrize(
    ("profit", "growth", "expected"),
    [
        ("10000000", "9.99", "first"),
        ("1000000", "0", "first"),
        ("999999.99", "5", "second"),
        ("1000000", "-0.01", "second"),
        ("0", "-50", "second"),
        ("-0.01", "50", "third"),
    ],
)
def test_operating_condition_boundaries(
    customer_with: Any, grade: Any, profit: str, growth: str, expected: str
) -> None:
    customer = customer_with(
        kind="enterprise", custom={"annual_profit": profit, "profit_growth": growth}
    )

    assert grade("operating-condition")[customer.pk] == expected

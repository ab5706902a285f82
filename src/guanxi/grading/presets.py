"""The classic grading schemes, ready to switch on, with the criteria the field uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class TierSpec:
    code: str
    name_zh: str
    name_en: str
    condition: str = ""
    color: str = "secondary"
    follow_up_days: int | None = None
    sla_class: str = ""
    points_multiplier: str = "1"
    max_discount_percent: str = "0"
    account_manager_level: str = ""
    preferred_channels: tuple[str, ...] = ()
    care_actions: tuple[str, ...] = ()
    is_fallback: bool = False


@dataclass(frozen=True)
class PresetSpec:
    code: str
    name_zh: str
    name_en: str
    description: Any
    method: str
    tiers: list[TierSpec]
    kinds: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    retention_ranks: int = 0
    custom_fields: tuple[tuple[str, str, str], ...] = ()


PRESETS: dict[str, PresetSpec] = {}


def _add(spec: PresetSpec) -> None:
    PRESETS[spec.code] = spec


_add(
    PresetSpec(
        "value-tier",
        "客户价值等级",
        "Value tier",
        _("VIP, ordinary and potential customers by revenue, purchase frequency and tenure."),
        "thresholds",
        [
            TierSpec(
                "vip",
                "VIP 客户",
                "VIP",
                "revenue_12m >= 100000 and order_count_12m >= 6 and tenure_days >= 365",
                "danger",
                7,
                "gold",
                "2",
                "15",
                "senior",
                ("visit", "phone_call"),
                ("birthday gift", "annual review visit"),
            ),
            TierSpec(
                "ordinary",
                "普通客户",
                "Ordinary",
                "order_count >= 1",
                "primary",
                30,
                "standard",
                "1",
                "5",
                "standard",
                ("phone_call", "email"),
            ),
            TierSpec(
                "potential",
                "潜在客户",
                "Potential (no purchase yet)",
                color="secondary",
                follow_up_days=90,
                sla_class="basic",
                is_fallback=True,
                preferred_channels=("email",),
            ),
        ],
        retention_ranks=1,
    )
)

_add(
    PresetSpec(
        "value-growth",
        "价值-成长矩阵",
        "Value and growth matrix",
        _("High-value, potential, general and low-value customers from current value and growth."),
        "matrix",
        [
            TierSpec(
                "high-value",
                "高价值客户",
                "High value",
                color="danger",
                follow_up_days=14,
                sla_class="gold",
                points_multiplier="1.5",
                max_discount_percent="12",
            ),
            TierSpec(
                "potential",
                "潜力客户",
                "Potential",
                color="success",
                follow_up_days=21,
                sla_class="standard",
                max_discount_percent="10",
            ),
            TierSpec(
                "general",
                "一般客户",
                "General",
                color="primary",
                follow_up_days=45,
                sla_class="standard",
                max_discount_percent="5",
            ),
            TierSpec(
                "low-value",
                "低价值客户",
                "Low value",
                color="secondary",
                follow_up_days=120,
                sla_class="basic",
            ),
        ],
        config={
            "x": {"metric": "revenue_12m", "at": 50000},
            "y": {"metric": "revenue_trend", "at": 1},
            "cells": {
                "high_high": "high-value",
                "low_high": "potential",
                "high_low": "general",
                "low_low": "low-value",
            },
        },
        retention_ranks=1,
    )
)

_add(
    PresetSpec(
        "wealth-tier",
        "财富等级（月日均资产）",
        "Wealth tier (monthly average assets)",
        _("Bank wealth tiers: diamond from 5,000,000, platinum from 1,000,000, gold from 100,000."),
        "thresholds",
        [
            TierSpec(
                "diamond",
                "钻石",
                "Diamond",
                "monthly_average_assets >= 5000000",
                "dark",
                7,
                "vip",
                "3",
                "0",
                "private banker",
                ("visit",),
                ("private events",),
            ),
            TierSpec(
                "platinum",
                "白金",
                "Platinum",
                "monthly_average_assets >= 1000000",
                "info",
                14,
                "gold",
                "2",
                "0",
                "wealth manager",
                ("phone_call", "visit"),
            ),
            TierSpec(
                "gold",
                "金卡",
                "Gold",
                "monthly_average_assets >= 100000",
                "warning",
                30,
                "standard",
                "1.5",
                "0",
                "relationship manager",
                ("phone_call",),
            ),
            TierSpec(
                "mass",
                "大众",
                "Mass",
                color="secondary",
                follow_up_days=180,
                sla_class="basic",
                is_fallback=True,
            ),
        ],
        kinds=("person",),
        retention_ranks=2,
    )
)

_add(
    PresetSpec(
        "wealth-tier-loans",
        "财富等级（含贷款）",
        "Wealth tier with loans",
        _(
            "The second standard for customers with loans: assets plus loans, "
            "with a floor on assets."
        ),
        "thresholds",
        [
            TierSpec(
                "diamond",
                "钻石",
                "Diamond",
                "assets_and_loans >= 8000000 and monthly_average_assets >= 3500000",
                "dark",
                7,
                "vip",
                "3",
            ),
            TierSpec(
                "platinum",
                "白金",
                "Platinum",
                "assets_and_loans >= 1600000 and monthly_average_assets >= 700000",
                "info",
                14,
                "gold",
                "2",
            ),
            TierSpec(
                "gold",
                "金卡",
                "Gold",
                "assets_and_loans >= 160000 and monthly_average_assets >= 70000",
                "warning",
                30,
                "standard",
                "1.5",
            ),
            TierSpec(
                "mass",
                "大众",
                "Mass",
                color="secondary",
                follow_up_days=180,
                sla_class="basic",
                is_fallback=True,
            ),
        ],
        kinds=("person",),
        config={"eligible": "loan_balance > 0"},
        retention_ranks=2,
    )
)

_add(
    PresetSpec(
        "credit-rating",
        "信用等级",
        "Credit rating",
        _("A–D by payments over 24 months: share recovered and the longest time to pay."),
        "thresholds",
        [
            TierSpec(
                "a",
                "A 级",
                "A",
                "payment_recovery_24m >= 90 and max_days_to_pay_24m <= 45",
                "success",
                max_discount_percent="10",
            ),
            TierSpec(
                "b",
                "B 级",
                "B",
                "payment_recovery_24m >= 75 and max_days_to_pay_24m <= 75",
                "primary",
                max_discount_percent="5",
            ),
            TierSpec(
                "c",
                "C 级",
                "C",
                "payment_recovery_24m >= 60 and max_days_to_pay_24m <= 105",
                "warning",
            ),
            TierSpec(
                "d",
                "D 级",
                "D",
                "payment_recovery_24m >= 30 and max_days_to_pay_24m <= 255",
                "danger",
            ),
            TierSpec(
                "high-risk",
                "未评级 / 高风险",
                "Unrated / high risk",
                color="dark",
                is_fallback=True,
            ),
        ],
        config={"eligible": "payment_recovery_24m is not empty"},
    )
)

_RFM = [
    (
        "champions",
        "重要价值客户",
        "Champions",
        "r_score >= 4 and f_score >= 4 and m_score >= 4",
        "danger",
        7,
    ),
    ("loyal", "忠诚客户", "Loyal", "r_score >= 3 and f_score >= 4", "primary", 14),
    (
        "cant-lose",
        "不能失去的客户",
        "Can't lose them",
        "r_score <= 2 and f_score >= 4 and m_score >= 4",
        "dark",
        3,
    ),
    ("at-risk", "有流失风险", "At risk", "r_score <= 2 and f_score >= 3", "warning", 7),
    (
        "potential-loyalists",
        "潜在忠诚客户",
        "Potential loyalists",
        "r_score >= 4 and f_score >= 2",
        "success",
        14,
    ),
    ("new", "新客户", "New customers", "r_score >= 4 and f_score <= 1", "info", 14),
    ("promising", "有潜力客户", "Promising", "r_score = 3 and f_score <= 2", "info", 30),
    ("need-attention", "需要关注", "Need attention", "r_score = 3 and f_score = 3", "warning", 21),
    (
        "about-to-sleep",
        "即将沉睡",
        "About to sleep",
        "r_score = 2 and f_score <= 2",
        "secondary",
        30,
    ),
    ("hibernating", "休眠客户", "Hibernating", "r_score = 1 and f_score >= 2", "secondary", 60),
]
_add(
    PresetSpec(
        "rfm",
        "RFM 分群",
        "RFM segments",
        _("Recency, frequency and monetary value scored by quintile, named segments."),
        "quantiles",
        [
            TierSpec(code, zh, en, condition, color, days)
            for code, zh, en, condition, color, days in _RFM
        ]
        + [TierSpec("lost", "已流失", "Lost", color="light", follow_up_days=180, is_fallback=True)],
        config={
            "eligible": "order_count >= 1",
            "dimensions": [
                {"name": "r", "metric": "recency_days", "better": "lower", "buckets": 5},
                {"name": "f", "metric": "order_count", "better": "higher", "buckets": 5},
                {"name": "m", "metric": "revenue_lifetime", "better": "higher", "buckets": 5},
            ],
        },
        retention_ranks=3,
    )
)

_add(
    PresetSpec(
        "abc",
        "ABC 分类",
        "ABC (Pareto)",
        _("A: the customers bringing the first 80% of revenue; B: the next 15%; C: the rest."),
        "cumulative",
        [
            TierSpec("a", "A 类", "A", color="danger", follow_up_days=14, sla_class="gold"),
            TierSpec("b", "B 类", "B", color="primary", follow_up_days=30, sla_class="standard"),
            TierSpec("c", "C 类", "C", color="secondary", follow_up_days=90, sla_class="basic"),
        ],
        config={"metric": "revenue_12m", "cutoffs": [["a", 0.8], ["b", 0.95]], "rest": "c"},
        retention_ranks=1,
    )
)

_add(
    PresetSpec(
        "lifecycle",
        "生命周期阶段",
        "Lifecycle stage",
        _("Prospect, introduction, growth, maturity, decline and churned, from order history."),
        "thresholds",
        [
            TierSpec("prospect", "潜在期", "Prospect", "order_count = 0", "secondary", 30),
            TierSpec("churned", "流失期", "Churned", "recency_days > 365", "dark", 90),
            TierSpec(
                "introduction",
                "考察期",
                "Introduction",
                "tenure_days <= 180 and order_count <= 2",
                "info",
                14,
            ),
            TierSpec("decline", "衰退期", "Decline", "revenue_trend = -1", "warning", 14),
            TierSpec("growth", "成长期", "Growth", "revenue_trend = 1", "success", 21),
            TierSpec(
                "maturity",
                "成熟期",
                "Maturity",
                color="primary",
                follow_up_days=30,
                is_fallback=True,
            ),
        ],
    )
)

_add(
    PresetSpec(
        "customer-type",
        "客户类型",
        "Customer type",
        _("Key (large), new, regular, small and potential customers."),
        "thresholds",
        [
            TierSpec(
                "key",
                "重要客户（大客户）",
                "Key (large)",
                "revenue_12m >= 500000",
                "danger",
                7,
                "gold",
            ),
            TierSpec("new", "新客户", "New", "order_count >= 1 and tenure_days <= 90", "info", 14),
            TierSpec("regular", "老客户", "Regular", "order_count_12m >= 2", "primary", 30),
            TierSpec("small", "小客户", "Small", "order_count >= 1", "secondary", 60),
            TierSpec(
                "potential",
                "潜在客户",
                "Potential",
                color="light",
                follow_up_days=90,
                is_fallback=True,
            ),
        ],
        retention_ranks=1,
    )
)

_add(
    PresetSpec(
        "operating-condition",
        "经营状况",
        "Operating condition",
        _("Enterprise customers by annual profit and its growth (custom fields)."),
        "thresholds",
        [
            TierSpec(
                "premium",
                "优质",
                "Premium",
                "custom.annual_profit >= 10000000 and custom.profit_growth >= 10",
                "success",
            ),
            TierSpec(
                "first",
                "一类",
                "First class",
                "custom.annual_profit >= 1000000 and custom.profit_growth >= 0",
                "primary",
            ),
            TierSpec("second", "二类", "Second class", "custom.annual_profit >= 0", "warning"),
            TierSpec("third", "三类", "Third class", color="danger", is_fallback=True),
        ],
        kinds=("enterprise",),
        config={"eligible": "custom.annual_profit is not empty"},
        custom_fields=(
            ("annual_profit", "年利润", "Annual profit"),
            ("profit_growth", "利润增长率（%）", "Profit growth (%)"),
        ),
    )
)


def kotler_level(customers: int, margin_share: float, *, total_customers: int) -> str:
    """Kotler's relationship level for a segment from its size and its margin.

    Size is many / medium / few by the segment's share of all customers (≥ 30% / ≥ 5%);
    margin is high / medium / low by its margin share per customer relative to the average
    (≥ 1.5× / ≥ 0.5×):

                    high margin     medium margin   low margin
        many        accountable     reactive        basic
        medium      proactive       accountable     reactive
        few         partnership     proactive       accountable
    """
    if total_customers <= 0 or customers <= 0:
        return "basic"
    size_share = customers / total_customers
    size = "many" if size_share >= 0.3 else "medium" if size_share >= 0.05 else "few"
    relative = margin_share / size_share if size_share else 0
    margin = "high" if relative >= 1.5 else "medium" if relative >= 0.5 else "low"
    table = {
        ("many", "high"): "accountable",
        ("many", "medium"): "reactive",
        ("many", "low"): "basic",
        ("medium", "high"): "proactive",
        ("medium", "medium"): "accountable",
        ("medium", "low"): "reactive",
        ("few", "high"): "partnership",
        ("few", "medium"): "proactive",
        ("few", "low"): "accountable",
    }
    return table[(size, margin)]

"""The metric catalogue and its refresh: every metric for every customer in set-based SQL.

`metrics_refresh` rebuilds grading_customermetrics from orders, invoices, holdings and
interactions in one INSERT … SELECT of grouped sub-queries (no per-customer Python), inside
one transaction, so a failure leaves the previous metrics in place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.grading import sql


@dataclass(frozen=True)
class Metric:
    name: str
    label: Any
    description: Any
    unit: Any = ""


CATALOGUE: dict[str, Metric] = {
    metric.name: metric
    for metric in [
        Metric(
            "revenue_lifetime",
            _("Lifetime revenue"),
            _("Sum of all valid orders (not draft, cancelled or returned)."),
            "CNY",
        ),
        Metric(
            "revenue_12m",
            _("Revenue, last 12 months"),
            _("Sum of valid orders in the 365 days before the evaluation date."),
            "CNY",
        ),
        Metric(
            "margin_lifetime",
            _("Lifetime gross margin"),
            _("Order amounts minus their cost, all time."),
            "CNY",
        ),
        Metric(
            "margin_12m",
            _("Gross margin, last 12 months"),
            _("Order amounts minus their cost in the last 365 days."),
            "CNY",
        ),
        Metric("order_count", _("Orders, all time"), _("Number of valid orders."), ""),
        Metric(
            "order_count_12m",
            _("Purchase frequency (orders, last 12 months)"),
            _("Number of valid orders in the last 365 days."),
            "",
        ),
        Metric(
            "recency_days",
            _("Days since the last order"),
            _("Empty when the customer has never ordered."),
            _("days"),
        ),
        Metric(
            "tenure_days",
            _("Tenure"),
            _("Days since the first order, or since the customer was created."),
            _("days"),
        ),
        Metric(
            "average_order_value",
            _("Average order value"),
            _("Lifetime revenue divided by the number of orders."),
            "CNY",
        ),
        Metric(
            "revenue_trend",
            _("Revenue trend"),
            _("1 growing, 0 stable, -1 falling: the last 6 months against the 6 before (±10%)."),
            "",
        ),
        Metric(
            "revenue_last_6m", _("Revenue, last 6 months"), _("Valid orders, last 182 days."), "CNY"
        ),
        Metric(
            "revenue_prior_6m",
            _("Revenue, the 6 months before"),
            _("Valid orders 183–365 days before the evaluation date."),
            "CNY",
        ),
        Metric(
            "payment_recovery_24m",
            _("Payment recovery, 24 months (%)"),
            _("Share of the amount of invoices due in the last 24 months that has been paid."),
            "%",
        ),
        Metric(
            "max_days_to_pay_24m",
            _("Longest days to pay, 24 months"),
            _(
                "Most days between issuing and full payment (or today, if unpaid) of an "
                "invoice due in the last 24 months."
            ),
            _("days"),
        ),
        Metric(
            "overdue_amount",
            _("Overdue amount"),
            _("Unpaid amount of invoices past their due date."),
            "CNY",
        ),
        Metric("aum", _("Assets under management"), _("From the latest holdings snapshot."), "CNY"),
        Metric(
            "monthly_average_assets",
            _("Monthly average assets"),
            _("From the latest holdings snapshot."),
            "CNY",
        ),
        Metric("loan_balance", _("Loan balance"), _("From the latest holdings snapshot."), "CNY"),
        Metric(
            "interactions_90d",
            _("Interactions, last 90 days"),
            _("Calls, visits, messages… logged in the last 90 days."),
            "",
        ),
        Metric(
            "assets_and_loans",
            _("Assets plus loans"),
            _("Monthly average assets plus the loan balance."),
            "CNY",
        ),
    ]
}
# Metrics that are arithmetic over stored columns rather than columns of their own.
DERIVED = {"assets_and_loans": "(m.monthly_average_assets + m.loan_balance)"}

VALID_ORDER_STATUSES = ("confirmed", "shipped", "completed")


def column(name: str) -> str:
    """The SQL expression of a metric (alias m) or custom field (alias c); KeyError if unknown."""
    if name in DERIVED:
        return DERIVED[name]
    if name in CATALOGUE:
        return f"m.{name}"
    if name.startswith("custom."):
        key = name.split(".", 1)[1]
        if not key.replace("_", "").isalnum() or not key.isascii():
            raise KeyError(name)
        return sql.custom_number("c.custom_fields", key)
    raise KeyError(name)


def _table(label: str) -> str | None:
    try:
        return str(apps.get_model(label)._meta.db_table)
    except LookupError:
        return None


def metrics_refresh(*, as_of: dt.date | None = None) -> int:
    """Recompute every customer's metrics as of a date (default today); returns the count."""
    as_of = as_of or timezone.localdate()
    zone = timezone.get_current_timezone()
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    t6 = end - dt.timedelta(days=182)
    t12 = end - dt.timedelta(days=365)
    t24 = as_of - dt.timedelta(days=730)
    t90 = end - dt.timedelta(days=90)
    now = sql.timestamp(timezone.now())
    end, t6, t12, t90 = (sql.timestamp(moment) for moment in (end, t6, t12, t90))
    orders, invoices = _table("commerce.Order"), _table("commerce.Invoice")
    holdings, interactions = _table("commerce.HoldingSnapshot"), _table("interactions.Interaction")
    joins = []
    if orders:
        statuses = ", ".join(["%s"] * len(VALID_ORDER_STATUSES))
        joins.append(
            f"""LEFT JOIN (
                SELECT customer_id,
                    SUM(total_amount) AS revenue,
                    SUM(CASE WHEN ordered_at >= %s THEN total_amount ELSE 0 END) AS revenue_12m,
                    SUM(total_amount - total_cost) AS margin,
                    SUM(CASE WHEN ordered_at >= %s THEN total_amount - total_cost ELSE 0 END)
                        AS margin_12m,
                    COUNT(*) AS orders,
                    SUM(CASE WHEN ordered_at >= %s THEN 1 ELSE 0 END) AS orders_12m,
                    MIN(ordered_at) AS first_at, MAX(ordered_at) AS last_at,
                    SUM(CASE WHEN ordered_at >= %s THEN total_amount ELSE 0 END) AS last_6m,
                    SUM(CASE WHEN ordered_at >= %s AND ordered_at < %s THEN total_amount ELSE 0 END)
                        AS prior_6m
                FROM {orders} WHERE status IN ({statuses}) AND ordered_at < %s
                GROUP BY customer_id) o ON o.customer_id = c.id"""
        )
    else:
        joins.append(
            "LEFT JOIN (SELECT NULL AS customer_id, 0 AS revenue, 0 AS revenue_12m, "
            "0 AS margin, 0 AS margin_12m, 0 AS orders, 0 AS orders_12m, NULL AS first_at,"
            " NULL AS last_at, 0 AS last_6m, 0 AS prior_6m) o ON 1=0"
        )
    order_params = [t12, t12, t12, t6, t12, t6, *VALID_ORDER_STATUSES, end] if orders else []
    if invoices:
        days_to_pay = sql.days_between("COALESCE(paid_on, %s)", "issued_on")
        joins.append(
            f"""LEFT JOIN (
                SELECT customer_id,
                    100.0 * SUM(CASE WHEN due_on >= %s AND due_on <= %s THEN paid_amount ELSE 0 END)
                    / NULLIF(SUM(CASE WHEN due_on >= %s AND due_on <= %s THEN amount ELSE 0 END), 0)
                        AS recovery,
                    MAX(CASE WHEN due_on >= %s AND due_on <= %s THEN {days_to_pay} END) AS max_days,
                    SUM(CASE WHEN due_on < %s AND status IN ('open', 'partly_paid')
                        THEN amount - paid_amount ELSE 0 END) AS overdue
                FROM {invoices} WHERE status <> 'cancelled'
                GROUP BY customer_id) i ON i.customer_id = c.id"""
        )
    else:
        joins.append(
            "LEFT JOIN (SELECT NULL AS customer_id, NULL AS recovery, NULL AS max_days,"
            " 0 AS overdue) i ON 1=0"
        )
    # In text order: the recovery window twice, the days-to-pay window, COALESCE's date, overdue.
    invoice_params = [t24, as_of, t24, as_of, t24, as_of, as_of, as_of] if invoices else []
    if holdings:
        joins.append(
            f"""LEFT JOIN (
                SELECT h.customer_id, h.assets_under_management AS aum,
                    h.monthly_average_assets AS average_assets, h.loan_balance AS loans
                FROM {holdings} h JOIN (
                    SELECT customer_id, MAX(as_of) AS latest FROM {holdings}
                    WHERE as_of <= %s GROUP BY customer_id
                ) latest ON latest.customer_id = h.customer_id AND latest.latest = h.as_of
            ) h ON h.customer_id = c.id"""
        )
    else:
        joins.append(
            "LEFT JOIN (SELECT NULL AS customer_id, 0 AS aum, 0 AS average_assets, "
            "0 AS loans) h ON 1=0"
        )
    holding_params = [as_of] if holdings else []
    if interactions:
        joins.append(
            f"""LEFT JOIN (
                SELECT customer_id, COUNT(*) AS n FROM {interactions}
                WHERE occurred_at >= %s AND occurred_at < %s GROUP BY customer_id
            ) x ON x.customer_id = c.id"""
        )
    else:
        joins.append("LEFT JOIN (SELECT NULL AS customer_id, 0 AS n) x ON 1=0")
    interaction_params = [t90, end] if interactions else []
    recency = sql.days_between("%s", "o.last_at")
    tenure = sql.days_between("%s", "COALESCE(o.first_at, c.created_at)")
    statement = f"""
        INSERT INTO grading_customermetrics (
            customer_id, as_of, revenue_lifetime, revenue_12m, margin_lifetime, margin_12m,
            order_count, order_count_12m, first_order_at, last_order_at, recency_days,
            tenure_days, average_order_value, revenue_last_6m, revenue_prior_6m, revenue_trend,
            payment_recovery_24m, max_days_to_pay_24m, overdue_amount, aum,
            monthly_average_assets, loan_balance, interactions_90d, refreshed_at)
        SELECT c.id, %s, COALESCE(o.revenue, 0), COALESCE(o.revenue_12m, 0),
            COALESCE(o.margin, 0), COALESCE(o.margin_12m, 0), COALESCE(o.orders, 0),
            COALESCE(o.orders_12m, 0), o.first_at, o.last_at, {recency}, {tenure},
            CASE WHEN COALESCE(o.orders, 0) > 0 THEN o.revenue / o.orders ELSE 0 END,
            COALESCE(o.last_6m, 0), COALESCE(o.prior_6m, 0),
            CASE WHEN COALESCE(o.last_6m, 0) > COALESCE(o.prior_6m, 0) * 1.1 THEN 1
                 WHEN COALESCE(o.last_6m, 0) < COALESCE(o.prior_6m, 0) * 0.9 THEN -1
                 ELSE 0 END,
            i.recovery, i.max_days, COALESCE(i.overdue, 0), COALESCE(h.aum, 0),
            COALESCE(h.average_assets, 0), COALESCE(h.loans, 0), COALESCE(x.n, 0), %s
        FROM customers_customer c
        {" ".join(joins)}
        WHERE c.status <> 'merged'
    """
    # Parameters in text order: the SELECT list's four, then each join's.
    ordered: list[Any] = [
        as_of,
        as_of,
        as_of,
        now,
        *order_params,
        *invoice_params,
        *holding_params,
        *interaction_params,
    ]
    with transaction.atomic():
        sql.tune_for_aggregation()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM grading_customermetrics")
            cursor.execute(statement, ordered)
            return int(cursor.rowcount)

"""The metric catalogue and its refresh: every metric for every customer in set-based SQL.

`metrics_refresh` brings grading_customermetrics up to date from orders, invoices, holdings
and interactions (the groups asked for): one pass over grouped sub-queries (no per-customer
Python) collects the new and changed rows, which are then written, inside one transaction,
so a failure leaves the previous metrics in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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


def _longest_term(as_of: str, paid: str, unpaid_issued: str) -> str:
    """The longest term to pay: that of the paid invoices, or the days an unpaid one has
    been open, whichever is longer (NULL when there is neither)."""
    open_days = sql.days_between(as_of, unpaid_issued)
    return (
        f"CASE WHEN {unpaid_issued} IS NULL THEN {paid} "
        f"WHEN {paid} IS NULL OR {open_days} > {paid} THEN {open_days} ELSE {paid} END"
    )


# Metrics that grow by a day every day with nothing else changing: grading counts them from
# stored dates to the evaluation date (m: metrics, c: the customer; the first date present),
# so that the nightly refresh rewrites only the customers whose facts changed. The stored
# column holds the value as of the row's own refresh and is not compared for changes.
AGEING_DATES = {
    "recency_days": ("m.last_order_at",),
    "tenure_days": ("m.first_order_at", "c.created_at"),
    "max_days_to_pay_24m": ("m.unpaid_issued_24m",),  # the unpaid part (see _longest_term)
}
AT_READ = frozenset(AGEING_DATES)


def column(name: str, as_of: dt.date | None = None) -> str:
    """The SQL expression of a metric (alias m) or custom field (alias c); KeyError if unknown.

    With `as_of`, the ageing metrics (AT_READ) are counted to that date."""
    if name in DERIVED:
        return DERIVED[name]
    if name == "max_days_to_pay_24m" and as_of is not None:
        return _longest_term(sql.date_literal(as_of), "m.max_days_paid_24m", "m.unpaid_issued_24m")
    if name in AT_READ and as_of is not None:
        dates = AGEING_DATES[name]
        counted_from = dates[0] if len(dates) == 1 else f"COALESCE({', '.join(dates)})"
        return sql.days_between(sql.date_literal(as_of), counted_from)
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


# Which source table each stored metric is computed from: a refresh recomputes whole groups.
GROUPS: dict[str, tuple[str, ...]] = {
    "orders": (
        "revenue_lifetime",
        "revenue_12m",
        "margin_lifetime",
        "margin_12m",
        "order_count",
        "order_count_12m",
        "first_order_at",
        "last_order_at",
        "recency_days",
        "tenure_days",
        "average_order_value",
        "revenue_last_6m",
        "revenue_prior_6m",
        "revenue_trend",
    ),
    "invoices": (
        "payment_recovery_24m",
        "max_days_to_pay_24m",
        "max_days_paid_24m",
        "unpaid_issued_24m",
        "overdue_amount",
    ),
    "holdings": ("aum", "monthly_average_assets", "loan_balance"),
    "interactions": ("interactions_90d",),
}
_GROUP_OF = {name: group for group, names in GROUPS.items() for name in names}
_GROUP_OF["assets_and_loans"] = "holdings"


def groups_for(names: list[str]) -> set[str]:
    """The metric groups that hold the given metrics (custom fields need none)."""
    return {_GROUP_OF[name] for name in names if name in _GROUP_OF}


@dataclass
class _Part:
    """One group's grouped sub-query: its SELECT-list expressions and its LEFT JOIN."""

    columns: list[tuple[str, str]]
    column_params: list[Any]
    join: str
    join_params: list[Any]


# (alias, aggregate, its parameters) and (column, expression, its parameters, aliases read).
# `Among(column)`: the condition keeping a query to the customers a refresh recomputes.
Among = Callable[[str], str]
_Aggregate = tuple[str, str, list[Any]]
_Column = tuple[str, str, list[Any], tuple[str, ...]]


def _grouped(
    table: str,
    alias: str,
    aggregates: list[_Aggregate],
    columns: list[_Column],
    where: tuple[str, list[Any]],
    wanted: set[str] | None,
    among: Among,
) -> _Part:
    """A group's part that computes only the wanted columns and the aggregates they read."""
    chosen = [column for column in columns if wanted is None or column[0] in wanted]
    needed = {name for column in chosen for name in column[3]}
    used = [aggregate for aggregate in aggregates if aggregate[0] in needed] or aggregates[:1]
    where_sql, where_params = where
    join = (
        f"LEFT JOIN (SELECT customer_id, "
        f"{', '.join(f'{expression} AS {name}' for name, expression, _p in used)} "
        f"FROM {table} WHERE {where_sql}{among('customer_id')} GROUP BY customer_id) {alias} "
        f"ON {alias}.customer_id = c.id"
    )
    return _Part(
        [(name, expression) for name, expression, _p, _n in chosen],
        [value for column in chosen for value in column[2]],
        join,
        [*[value for aggregate in used for value in aggregate[2]], *where_params],
    )


# The order metrics that read only the last 12 months.
WINDOWED = {
    "revenue_12m",
    "margin_12m",
    "order_count_12m",
    "revenue_last_6m",
    "revenue_prior_6m",
    "revenue_trend",
}


def _orders_part(
    as_of: dt.date, end: Any, t6: Any, t12: Any, wanted: set[str] | None, among: Among
) -> _Part | None:
    orders = _table("commerce.Order")
    if orders is None:
        return None
    statuses = ", ".join(["%s"] * len(VALID_ORDER_STATUSES))
    recent = "CASE WHEN ordered_at >= %s THEN {} ELSE 0 END"
    aggregates: list[_Aggregate] = [
        ("revenue", "SUM(total_amount)", []),
        ("revenue_12m", f"SUM({recent.format('total_amount')})", [t12]),
        ("margin", "SUM(total_amount - total_cost)", []),
        ("margin_12m", f"SUM({recent.format('total_amount - total_cost')})", [t12]),
        ("orders", "COUNT(*)", []),
        ("orders_12m", f"SUM({recent.format('1')})", [t12]),
        ("first_at", "MIN(ordered_at)", []),
        ("last_at", "MAX(ordered_at)", []),
        ("last_6m", f"SUM({recent.format('total_amount')})", [t6]),
        (
            "prior_6m",
            "SUM(CASE WHEN ordered_at >= %s AND ordered_at < %s THEN total_amount ELSE 0 END)",
            [t12, t6],
        ),
    ]
    trend = (
        "CASE WHEN COALESCE(o.last_6m, 0) > COALESCE(o.prior_6m, 0) * 1.1 THEN 1 "
        "WHEN COALESCE(o.last_6m, 0) < COALESCE(o.prior_6m, 0) * 0.9 THEN -1 ELSE 0 END"
    )
    columns: list[_Column] = [
        ("revenue_lifetime", "COALESCE(o.revenue, 0)", [], ("revenue",)),
        ("revenue_12m", "COALESCE(o.revenue_12m, 0)", [], ("revenue_12m",)),
        ("margin_lifetime", "COALESCE(o.margin, 0)", [], ("margin",)),
        ("margin_12m", "COALESCE(o.margin_12m, 0)", [], ("margin_12m",)),
        ("order_count", "COALESCE(o.orders, 0)", [], ("orders",)),
        ("order_count_12m", "COALESCE(o.orders_12m, 0)", [], ("orders_12m",)),
        ("first_order_at", "o.first_at", [], ("first_at",)),
        ("last_order_at", "o.last_at", [], ("last_at",)),
        ("recency_days", sql.days_between("%s", "o.last_at"), [as_of], ("last_at",)),
        (
            "tenure_days",
            sql.days_between("%s", "COALESCE(o.first_at, c.created_at)"),
            [as_of],
            ("first_at",),
        ),
        (
            "average_order_value",
            "CASE WHEN COALESCE(o.orders, 0) > 0 THEN o.revenue / o.orders ELSE 0 END",
            [],
            ("orders", "revenue"),
        ),
        ("revenue_last_6m", "COALESCE(o.last_6m, 0)", [], ("last_6m",)),
        ("revenue_prior_6m", "COALESCE(o.prior_6m, 0)", [], ("prior_6m",)),
        ("revenue_trend", trend, [], ("last_6m", "prior_6m")),
    ]
    where = (f"status IN ({statuses}) AND ordered_at < %s", [*VALID_ORDER_STATUSES, end])
    if wanted is not None and wanted <= WINDOWED:  # only the 12 months need reading
        where = (f"{where[0]} AND ordered_at >= %s", [*where[1], t12])
    return _grouped(orders, "o", aggregates, columns, where, wanted, among)


def _invoices_part(
    as_of: dt.date, t24: dt.date, wanted: set[str] | None, among: Among
) -> _Part | None:
    invoices = _table("commerce.Invoice")
    if invoices is None:
        return None
    paid_days = sql.days_between("paid_on", "issued_on")
    window = "due_on >= %s AND due_on <= %s"
    aggregates: list[_Aggregate] = [
        ("paid", f"SUM(CASE WHEN {window} THEN paid_amount ELSE 0 END)", [t24, as_of]),
        ("owed", f"SUM(CASE WHEN {window} THEN amount ELSE 0 END)", [t24, as_of]),
        (
            "max_paid",
            f"MAX(CASE WHEN {window} AND paid_on IS NOT NULL THEN {paid_days} END)",
            [t24, as_of],
        ),
        (
            "unpaid_from",
            f"MIN(CASE WHEN {window} AND paid_on IS NULL THEN issued_on END)",
            [t24, as_of],
        ),
        (
            "overdue",
            "SUM(CASE WHEN due_on < %s AND status IN ('open', 'partly_paid') "
            "THEN amount - paid_amount ELSE 0 END)",
            [as_of],
        ),
    ]
    columns: list[_Column] = [
        ("payment_recovery_24m", "100.0 * i.paid / NULLIF(i.owed, 0)", [], ("paid", "owed")),
        (
            "max_days_to_pay_24m",
            _longest_term("%s", "i.max_paid", "i.unpaid_from"),
            [as_of, as_of],
            ("max_paid", "unpaid_from"),
        ),
        ("max_days_paid_24m", "i.max_paid", [], ("max_paid",)),
        ("unpaid_issued_24m", "i.unpaid_from", [], ("unpaid_from",)),
        ("overdue_amount", "COALESCE(i.overdue, 0)", [], ("overdue",)),
    ]
    # Every invoice is read even for the 24-month figures alone: with the window in the
    # WHERE clause SQLite leaves the covering (customer_id …) index for the due_on one and
    # sorts to group (30 s instead of 17–27 s at 1M customers); PostgreSQL gained nothing.
    where: tuple[str, list[Any]] = ("status <> 'cancelled'", [])
    return _grouped(invoices, "i", aggregates, columns, where, wanted, among)


def _holdings_part(as_of: dt.date, among: Among) -> _Part | None:
    holdings = _table("commerce.HoldingSnapshot")
    if holdings is None:
        return None
    join = f"""LEFT JOIN (
        SELECT h.customer_id, h.assets_under_management AS aum,
            h.monthly_average_assets AS average_assets, h.loan_balance AS loans
        FROM {holdings} h JOIN (
            SELECT customer_id, MAX(as_of) AS latest FROM {holdings}
            WHERE as_of <= %s{among("customer_id")} GROUP BY customer_id
        ) latest ON latest.customer_id = h.customer_id AND latest.latest = h.as_of
        WHERE 1 = 1{among("h.customer_id")}
    ) h ON h.customer_id = c.id"""
    columns = [
        ("aum", "COALESCE(h.aum, 0)"),
        ("monthly_average_assets", "COALESCE(h.average_assets, 0)"),
        ("loan_balance", "COALESCE(h.loans, 0)"),
    ]
    return _Part(columns, [], join, [as_of])


def _interactions_part(end: Any, t90: Any, among: Among) -> _Part | None:
    interactions = _table("interactions.Interaction")
    if interactions is None:
        return None
    join = f"""LEFT JOIN (
        SELECT customer_id, COUNT(*) AS n FROM {interactions}
        WHERE occurred_at >= %s AND occurred_at < %s{among("customer_id")} GROUP BY customer_id
    ) x ON x.customer_id = c.id"""
    return _Part([("interactions_90d", "COALESCE(x.n, 0)")], [], join, [t90, end])


# Stored metrics a metric needs refreshed with it: grading counts the ageing ones from dates.
_NEEDS = {
    "recency_days": ("last_order_at",),
    "tenure_days": ("first_order_at",),
    "max_days_to_pay_24m": ("max_days_paid_24m", "unpaid_issued_24m"),
    "assets_and_loans": ("monthly_average_assets", "loan_balance"),
}


def stored_for(names: list[str]) -> set[str]:
    """The stored metric columns that reading the given metrics needs up to date."""
    wanted = {name for name in names if name in _GROUP_OF and name not in DERIVED}
    for name in names:
        wanted.update(_NEEDS.get(name, ()))
    return wanted


# The column that records when each kind of stored figure last changed: the windowed order
# figures apart from the lifetime ones (an order leaving the 12 months changes only those).
STAMPS = {
    "orders": "orders_changed_at",
    "orders_window": "orders_12m_changed_at",
    "invoices": "invoices_changed_at",
    "holdings": "holdings_changed_at",
    "interactions": "interactions_changed_at",
}


def _stamp_of(column: str) -> str:
    group = _GROUP_OF[column]
    return STAMPS["orders_window" if column in WINDOWED else group]


def stamps_for(names: list[str]) -> list[str]:
    """The stamps of the stored figures that reading the given metrics needs."""
    return sorted({_stamp_of(column) for column in stored_for(names) if column in _GROUP_OF})


# The kinds of figure a refresh brings up to date each on its own (the stamped kinds but the
# customer's row): an evaluation refreshes only the kinds its scheme reads (`units_for`).
# "orders" are every order figure of the logged customers and of those with orders entered
# ahead; "orders_window", the 12-month figures of the customers at the window's edges.
UNITS = ("orders", "orders_window", "invoices", "holdings", "interactions")
_GROUP_OF_UNIT = {"orders_window": "orders"}
# The kinds recomputed for a customer the capture log held (it does not say which fact).
LOGGED = tuple(GROUPS)


def units_for(names: list[str]) -> set[str]:
    """The kinds of figure that reading the given metrics needs refreshed: the 12-month
    order figures move with new orders too."""
    stamps = set(stamps_for(names))
    units = {unit for unit in UNITS if STAMPS[unit] in stamps}
    if "orders_window" in units:
        units.add("orders")
    return units


TARGET, DELTA, TOUCHED, PENDING = (
    "grading_customermetrics",
    "grading_metrics_delta",
    "grading_metrics_touched",
    "grading_metricspending",
)
# How long a logged customer is kept once every kind has recomputed it: schemes that read
# customers' own rows look again at those logged since their last evaluation, which is
# at most a month before (see services.CANDIDATES_WITHIN_DAYS).
PENDING_KEPT = dt.timedelta(days=32)
# Past this share of customers touched, recomputing everyone in one sequential pass is
# cheaper than looking each one up.
FULL_SHARE = 0.2


def metrics_refresh(
    *,
    as_of: dt.date | None = None,
    groups: set[str] | None = None,
    only: set[str] | None = None,
    units: set[str] | None = None,
) -> int:
    """Bring customers' metrics up to date as of a date (default today); returns rows written.

    Normally incremental, each kind of figure (UNITS; `units`, default all) from the date it
    was last refreshed to: the customers the capture log holds (see `grading.capture`) are
    moved to the pending table as a numbered batch, and a kind's refresh recomputes those of
    the batches after the last it recomputed and those with a fact at an edge of one of its
    windows that moved since (an order leaving the 12 months, an invoice falling due…; see
    `_touched`). A kind is recomputed for everyone when it was refreshed as of a later date,
    or when its customers are more than FULL_SHARE of all; every kind, when there is no
    complete earlier refresh to build on (the first one, or after a capture trigger went
    missing). `groups` or `only` (see `stored_for`) recompute just those metrics, for every
    customer; the others keep their values.

    A row is written only when one of its values changed (or the customer is new). A row's
    `as_of` and `refreshed_at` are those of the last refresh that changed it; the metrics of
    AT_READ are counted to the evaluation date when grading. Metrics of merged customers are
    dropped. One transaction: a failure keeps the previous metrics and changes.
    """
    as_of = as_of or timezone.localdate()
    if only is not None:
        groups = groups_for(sorted(only))
    wanted = set(GROUPS) if groups is None else set(groups)
    chosen = set(UNITS) if units is None else set(units)
    unknown = (wanted - set(GROUPS)) | (chosen - set(UNITS))
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    from guanxi.grading import capture
    from guanxi.grading.models import MetricsState

    with transaction.atomic():
        sql.lock("grading_metrics_refresh")
        # Lost in a crash, the refresh is lost whole, the capture log it took with it.
        sql.relaxed_commit()
        recorded = capture.ensure()
        state = MetricsState.objects.filter(pk=1).first()
        if wanted != set(GROUPS) or only is not None:
            if state is not None and state.as_of != as_of:
                state.delete()  # these groups are now as of another date than the rest
            return _write(as_of, wanted, only)
        now = timezone.now()
        if not recorded or state is None:
            # Nothing to build on: every figure of every customer.
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {capture.LOG}")
                cursor.execute(f"DELETE FROM {PENDING}")
            MetricsState.objects.update_or_create(
                pk=1,
                defaults={
                    "as_of": as_of,
                    "refreshed_at": now,
                    "recomputed_at": now,
                    "units": {},
                    "batch": 0,
                },
            )
            return _write(as_of, set(GROUPS), None)
        batch = _take_log(state.batch + 1, now)
        dates, done = {}, {}
        for unit in UNITS:
            dates[unit], done[unit] = _unit_state(state, unit)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {TOUCHED} (grp VARCHAR(20), customer_id BIGINT, "
                "PRIMARY KEY (grp, customer_id))"
            )
        # Each kind's customers, or everyone: a kind refreshed as of a later date, or with
        # many customers touched. Every order figure of everyone, the 12-month ones too.
        everyone: set[str] = set()
        for unit in UNITS:
            if unit == "orders_window" and "orders" in everyone:
                chosen.discard(unit)
                dates[unit] = as_of
            elif unit in chosen and (
                dates[unit] > as_of or not _touched(unit, dates[unit], as_of, done[unit])
            ):
                everyone.add(unit)
        sql.analyze(TOUCHED)
        # The kinds recomputed for everyone in one pass (the 12-month figures alone apart).
        whole = {_GROUP_OF_UNIT.get(unit, unit) for unit in everyone - {"orders_window"}}
        written = _write(as_of, whole, None) if whole else 0
        for unit in UNITS:
            if unit not in chosen:
                continue
            if unit not in everyone or unit == "orders_window":
                written += _write(
                    as_of,
                    {_GROUP_OF_UNIT.get(unit, unit)},
                    WINDOWED if unit == "orders_window" else None,
                    subset=None if unit in everyone else unit,
                )
            dates[unit], done[unit] = as_of, batch
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {TOUCHED}")
            # Logged customers every kind has recomputed, once no evaluation looks for them.
            cursor.execute(
                f"DELETE FROM {PENDING} WHERE batch <= %s AND logged_at < %s",
                [min(done[unit] for unit in LOGGED), sql.timestamp(now - PENDING_KEPT)],
            )
        MetricsState.objects.filter(pk=1).update(
            as_of=min(dates.values()),
            refreshed_at=now,
            batch=batch,
            units={unit: {"as_of": dates[unit].isoformat(), "batch": done[unit]} for unit in UNITS},
        )
        return written


def _unit_state(state: Any, unit: str) -> tuple[dt.date, int]:
    """How far a kind of figure is refreshed: its date and the last batch of logged
    customers it recomputed (a kind not recorded: the state's date, none)."""
    recorded = state.units.get(unit)
    if not recorded:
        return state.as_of, 0
    return dt.date.fromisoformat(recorded["as_of"]), int(recorded["batch"])


def _window_ends(as_of: dt.date) -> dict[str, dt.datetime]:
    zone = timezone.get_current_timezone()
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return {
        "end": end,
        "t6": end - dt.timedelta(days=182),
        "t12": end - dt.timedelta(days=365),
        "t90": end - dt.timedelta(days=90),
    }


def _take_log(batch: int, now: dt.datetime) -> int:
    """Move the customers the capture log holds to the pending table as batch `batch`
    (logged now), and drop the metrics of the merged ones; returns the last batch."""
    from guanxi.grading import capture

    moment = sql.timestamp(now)
    with connection.cursor() as cursor:
        if sql.is_postgres():  # taken and emptied in one statement: nothing lost between
            cursor.execute(
                f"""WITH taken AS (DELETE FROM {capture.LOG} RETURNING customer_id)
                INSERT INTO {PENDING} (batch, customer_id, logged_at)
                SELECT DISTINCT %s, customer_id, CAST(%s AS timestamptz) FROM taken""",
                [batch, moment],
            )
            taken = cursor.rowcount
        else:  # the write lock is ours: no other writer can log a change in between
            cursor.execute(
                f"""INSERT INTO {PENDING} (batch, customer_id, logged_at)
                SELECT DISTINCT %s, customer_id, %s FROM {capture.LOG}""",
                [batch, moment],
            )
            taken = cursor.rowcount
            cursor.execute(f"DELETE FROM {capture.LOG}")
        if not taken:
            return batch - 1
        cursor.execute(
            f"""DELETE FROM {TARGET} WHERE customer_id IN (
                SELECT p.customer_id FROM {PENDING} p JOIN customers_customer c
                ON c.id = p.customer_id WHERE p.batch = %s AND c.status = 'merged')""",
            [batch],
        )
    return batch


def _touched(unit: str, since: dt.date, as_of: dt.date, done: int) -> bool:
    """Collect into the scratch table, as group `unit`, the customers whose figures of that
    kind to recompute: those logged in the batches after `done`, and those with a fact at
    one of its window edges that moved from `since` to `as_of`. False when so many are
    touched that recomputing everyone is cheaper."""
    insert, ignore = sql.insert_ignoring(TOUCHED)
    before, after = _window_ends(since), _window_ends(as_of)
    moments = {key: (sql.timestamp(before[key]), sql.timestamp(after[key])) for key in after}
    in_range = "{0} >= %s AND {0} < %s"
    days = dt.timedelta(days=730)
    # (source table, condition, parameters) of the facts at an edge that moved.
    edges: list[tuple[str | None, str, list[Any]]] = []
    if as_of > since:
        orders = _table("commerce.Order")
        interactions = _table("interactions.Interaction")
        invoices = _table("commerce.Invoice")
        edges = {
            # Orders dated after the last refresh's day (entered ahead) count from now on.
            "orders": [(orders, in_range.format("ordered_at"), [*moments["end"]])],
            # Orders crossing the 12- or 6-month line change only the windowed figures.
            "orders_window": [
                (orders, in_range.format("ordered_at"), [*moments[key]]) for key in ("t12", "t6")
            ],
            "interactions": [
                (interactions, in_range.format("occurred_at"), [*moments[key]])
                for key in ("t90", "end")
            ],
            # Invoices leaving the 24 months, falling due (entering them), or turning overdue
            # unpaid (overdue counts from the day after the due date).
            "invoices": [
                (invoices, in_range.format("due_on"), [since - days, as_of - days]),
                (invoices, "due_on > %s AND due_on <= %s", [since, as_of]),
                (
                    invoices,
                    "due_on >= %s AND due_on < %s AND status IN ('open', 'partly_paid')",
                    [since, as_of],
                ),
            ],
            "holdings": [
                (_table("commerce.HoldingSnapshot"), "as_of > %s AND as_of <= %s", [since, as_of])
            ],
        }[unit]
    with connection.cursor() as cursor:
        if unit in LOGGED:
            cursor.execute(
                f"{insert} SELECT DISTINCT %s, customer_id FROM {PENDING} WHERE batch > %s{ignore}",
                [unit, done],
            )
        for table, condition, params in edges:
            if table is not None:
                cursor.execute(
                    f"{insert} SELECT DISTINCT %s, customer_id FROM {table} "
                    f"WHERE {condition} AND customer_id IS NOT NULL{ignore}",
                    [unit, *params],
                )
        cursor.execute(f"SELECT COUNT(*) FROM {TOUCHED} WHERE grp = %s", [unit])
        touched = int(cursor.fetchone()[0])
    return not (touched > 1000 and touched > FULL_SHARE * sql.row_count(TARGET))


def _write(
    as_of: dt.date, wanted: set[str], only: set[str] | None, *, subset: str | None = None
) -> int:
    """Recompute the wanted groups for every customer (or, with `subset`, for the customers
    touched in that kind: see `_touched`) and write the rows that changed; returns how many."""
    ends = _window_ends(as_of)
    t24 = as_of - dt.timedelta(days=730)
    now = sql.timestamp(timezone.now())
    end, t6, t12, t90 = (sql.timestamp(ends[key]) for key in ("end", "t6", "t12", "t90"))

    # The customers touched in `subset` (see `_touched`).
    touched = f"SELECT customer_id FROM {TOUCHED} WHERE grp = '{subset}'"

    def among(column: str) -> str:
        """The condition that keeps a query to the customers touched in `subset`."""
        return "" if subset is None else f" AND {column} IN ({touched})"

    builders = {
        "orders": lambda: _orders_part(as_of, end, t6, t12, only, among),
        "invoices": lambda: _invoices_part(as_of, t24, only, among),
        "holdings": lambda: _holdings_part(as_of, among),
        "interactions": lambda: _interactions_part(end, t90, among),
    }
    parts = [part for group in GROUPS if group in wanted and (part := builders[group]())]
    columns = [name for part in parts for name, _expression in part.columns]
    expressions = [expression for part in parts for _name, expression in part.columns]
    from guanxi.grading.models import CustomerMetrics

    nullable = {field.name for field in CustomerMetrics._meta.concrete_fields if field.null}
    # One pass over the customers, the aggregates and the stored rows collects the rows to
    # write — customers without a row and rows whose values differ — into a scratch table;
    # only those are then inserted or updated, so a refresh over unchanged facts reads the
    # source tables once and writes (almost) nothing. (An upsert would arbitrate a conflict
    # for every customer; an UPDATE … FROM plus an anti-join for new rows reads twice.)
    # Each value is cast to its column's type, as stored: an average of 14.2857… must compare
    # equal to the 14.29 stored. The metrics counted at reading time (AT_READ) follow from
    # the stored values that are compared.
    types = {
        field.name: field.db_type(connection) for field in CustomerMetrics._meta.concrete_fields
    }
    selected = "".join(
        f", {sql.cast(expression, types[name])} AS {name}"
        for name, expression in zip(columns, expressions, strict=True)
    )
    changed = " OR ".join(
        sql.distinct(f"t.{name}", f"src.{name}") for name in columns if name not in AT_READ
    )
    # Merged customers lose their metrics (a merge is logged: see _take_log).
    merged = "SELECT id FROM customers_customer WHERE status = 'merged'"
    # The touched customers: where nothing is read of their rows, the scratch table alone
    # (their rows, read one by one, cost 0.25 s for 30k at 1M); where tenure reads the
    # creation date, each looked up by its key (a condition on every customer, and on
    # PostgreSQL a plain join too, was planned as a merge join reading all 1M of them; a
    # lateral sub-query kept apart by OFFSET 0 is looked up per row). New rows are checked
    # to be of customers still there and not merged (see `insert`).
    customers, guard = "customers_customer c", ""
    if subset is not None:
        customers = f"(SELECT tx.customer_id AS id, '' AS status FROM ({touched}) tx) c"
        guard = (
            " AND EXISTS (SELECT 1 FROM customers_customer k "
            "WHERE k.id = d.customer_id AND k.status <> 'merged')"
        )
        if "c.created_at" in "".join([selected, *(part.join for part in parts)]):
            customers = f"({touched}) tx JOIN customers_customer c ON c.id = tx.customer_id"
            if sql.is_postgres():
                customers = (
                    f"({touched}) tx CROSS JOIN LATERAL (SELECT k.id, k.status, k.created_at "
                    "FROM customers_customer k WHERE k.id = tx.customer_id OFFSET 0) c"
                )
    # The stored rows to compare with: on PostgreSQL, those of touched customers each looked
    # up by key (a join was planned as a merge join reading the whole metrics index: 0.33 s).
    stored = f"LEFT JOIN {TARGET} t ON t.customer_id = src.customer_id"
    if subset is not None and sql.is_postgres():
        stored = (
            f"LEFT JOIN LATERAL (SELECT * FROM {TARGET} k "
            "WHERE k.customer_id = src.customer_id OFFSET 0) t ON TRUE"
        )
    collect = f"""
        CREATE TEMPORARY TABLE {DELTA} AS
        SELECT src.*, CASE WHEN t.customer_id IS NULL THEN 1 ELSE 0 END AS is_new
        FROM (
            SELECT c.id AS customer_id{selected}
            FROM {customers}
            {" ".join(part.join for part in parts)}
            WHERE c.status <> 'merged'
        ) src
        {stored}
        WHERE t.customer_id IS NULL OR {changed or "1 = 0"}
    """
    collect_params: list[Any] = [
        *[value for part in parts for value in part.column_params],
        *[value for part in parts for value in part.join_params],
    ]
    assignments = "".join(f", {name} = d.{name}" for name in columns)
    # Each kind of figure whose values changed gets this refresh's time (see STAMPS).
    stamped: dict[str, list[str]] = {}
    for name in columns:
        if name not in AT_READ:
            stamped.setdefault(_stamp_of(name), []).append(name)
    for stamp, names in stamped.items():
        moved = " OR ".join(sql.distinct(f"t.{name}", f"d.{name}") for name in names)
        assignments += f", {stamp} = CASE WHEN {moved} THEN %s ELSE t.{stamp} END"
    update_params: list[Any] = [as_of, now, *[now] * len(stamped)]
    if "orders" in wanted and "recency_days" not in columns:
        # The stored ageing values follow the row's new date (from the dates kept).
        created = "(SELECT created_at FROM customers_customer WHERE id = t.customer_id)"
        assignments += (
            f", recency_days = {sql.days_between('%s', 't.last_order_at')}"
            f", tenure_days = {sql.days_between('%s', f'COALESCE(t.first_order_at, {created})')}"
        )
        update_params += [as_of, as_of]
    update = f"""
        UPDATE {TARGET} AS t SET as_of = %s, refreshed_at = %s{assignments}
        FROM {DELTA} d WHERE d.customer_id = t.customer_id AND d.is_new = 0
    """
    # New rows: this refresh's values, empty values for the groups not refreshed.
    values = {
        name: "NULL" if name in nullable else "0" for names in GROUPS.values() for name in names
    }
    values.update({name: f"d.{name}" for name in columns})
    values.update(dict.fromkeys(STAMPS.values(), "%s"))
    insert = f"""
        INSERT INTO {TARGET} (customer_id, as_of, refreshed_at, {", ".join(values)})
        SELECT d.customer_id, %s, %s, {", ".join(values.values())}
        FROM {DELTA} d WHERE d.is_new = 1{guard}
    """
    if subset:
        sql.tune_for_lookups()
    else:
        sql.tune_for_aggregation()
        sql.prefer_merge_joins()
    with connection.cursor() as cursor:
        if subset is None:
            cursor.execute(f"DELETE FROM {TARGET} WHERE customer_id IN ({merged})")
        cursor.execute(f"DROP TABLE IF EXISTS {DELTA}")
        cursor.execute(collect, collect_params)
        sql.analyze(DELTA)
        cursor.execute(update, update_params)
        written = int(cursor.rowcount)
        # New customers (logged: pending in each logged kind; the first kind refreshed
        # inserts the row, with empty figures of the others).
        cursor.execute(insert, [as_of, now, *[now] * len(STAMPS)])
        written += int(cursor.rowcount)
        cursor.execute(f"DROP TABLE {DELTA}")
        if written > 50_000:  # a first or full refresh: plans over the metrics need it
            sql.analyze(TARGET)
        return written

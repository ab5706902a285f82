"""The grading engine: a scheme becomes one INSERT … SELECT that grades every customer.

Each method compiles to a SELECT of (customer, tier, score, explanation) over the metrics
table, written to a staging table; applying then records history for the customers whose
tier changes and swaps the grades in — in one transaction, so an interrupted evaluation
leaves the previous grades intact. Configuration of each method (`Scheme.config`):

- thresholds: tiers' own conditions, first match by rank wins, else the fallback tier;
- quantiles: {"dimensions": [{"name": "r", "metric": "recency_days", "better": "lower",
  "buckets": 5}, …]} adds `<name>_score` columns (1 worst … buckets best) that tiers'
  conditions read, first match by rank wins;
- cumulative: {"metric": "revenue_12m", "cutoffs": [["a", 0.8], ["b", 0.95]],
  "rest": "c"}: sorted by the metric, a customer is in the first tier whose cut-off the
  cumulative share before them is under;
- matrix: {"x": {"metric": …, "at": n}, "y": {"metric": …, "at": n},
  "cells": {"high_high": tier, "high_low": tier, "low_high": tier, "low_low": tier}}.
Every method honours `config["eligible"]`, a condition a customer must meet to be graded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError
from guanxi.grading import conditions, metrics, sql
from guanxi.grading.models import Method, Scheme, Tier


@dataclass
class Compiled:
    """A scheme as SQL over every customer (alias c) and their metrics (alias m, maybe absent).

    `tier` is the rule's tier for an eligible customer and NULL for everyone else; `score`
    the method's score; `explanation` the (name, expression) pairs shown beside the grade.
    Each SQL text is followed by its own parameters.
    """

    source: str
    source_params: list[Any]
    tier: str
    tier_params: list[Any]
    score: str
    score_params: list[Any]
    explanation: list[tuple[str, str]]
    reads: list[str] = field(default_factory=list)


def _check_names(names: list[str], extra: set[str]) -> None:
    for name in names:
        if name in extra:
            continue
        try:
            metrics.column(name)
        except KeyError as error:
            raise DomainError(
                _("Unknown metric “%(name)s”.") % {"name": name}, field="condition"
            ) from error


def _parse(text: str, where: str, extra: set[str]) -> conditions.Node | None:
    try:
        node = conditions.parse(text)
    except conditions.ConditionError as error:
        raise DomainError(f"{where}: {error.message}", field="condition") from error
    try:
        _check_names(conditions.names(node), extra)
    except DomainError as error:
        raise DomainError(f"{where}: {error.message}", field="condition") from error
    return node


def _tiers(scheme: Scheme) -> list[Tier]:
    tiers = list(scheme.tiers.order_by("rank", "pk"))
    if not tiers:
        raise DomainError(_("The scheme has no tiers."), field="tiers")
    return tiers


def _case(
    branches: list[tuple[str, list[Any], int]], fallback: int | None
) -> tuple[str, list[Any]]:
    if not branches:
        return ("CAST(%s AS BIGINT)", [fallback])
    parts, params = [], []
    for condition_sql, condition_params, tier_id in branches:
        parts.append(f"WHEN {condition_sql} THEN %s")
        params += [*condition_params, tier_id]
    return f"CAST(CASE {' '.join(parts)} ELSE %s END AS BIGINT)", [*params, fallback]


def compile_scheme(scheme: Scheme, as_of: dt.date | None = None) -> Compiled:
    """Validate the scheme and turn it into SQL as of a date (default today); DomainError
    names the first problem."""
    as_of = as_of or timezone.localdate()
    tiers = _tiers(scheme)
    config = scheme.config or {}
    fallback = next((tier.pk for tier in tiers if tier.is_fallback), None)
    by_code = {tier.code: tier for tier in tiers}
    extra: set[str] = set()

    def metric_expr(name: str) -> str:
        return metrics.column(name, as_of)

    # Every customer, graded or not: one not (or no longer) eligible gets no tier.
    source = "customers_customer c LEFT JOIN grading_customermetrics m ON m.customer_id = c.id"
    source_params: list[Any] = []
    score_sql, score_params = "''", list[Any]()
    reads: list[str] = []

    eligible = _parse(str(config.get("eligible") or ""), _("Eligibility"), set())
    reads += conditions.names(eligible)

    if scheme.method == Method.QUANTILES:
        dimensions = config.get("dimensions") or []
        if not dimensions:
            raise DomainError(
                _("A quantile scheme needs at least one dimension."), field="dimensions"
            )
        seen_names, seen_metrics, windows = set(), set(), []
        for dimension in dimensions:
            name, metric = str(dimension.get("name", "")), str(dimension.get("metric", ""))
            buckets = dimension.get("buckets", 5)
            if not name.isidentifier() or name in seen_names:
                raise DomainError(_("Each dimension needs its own short name."), field="dimensions")
            if metric in seen_metrics:
                raise DomainError(
                    _("Two dimensions read the same metric “%(name)s”.") % {"name": metric},
                    field="dimensions",
                )
            if not isinstance(buckets, int) or not 2 <= buckets <= 10:
                raise DomainError(_("Use between 2 and 10 quantiles."), field="dimensions")
            _check_names([metric], set())
            seen_names.add(name)
            seen_metrics.add(metric)
            order = "DESC" if dimension.get("better") == "lower" else "ASC"
            windows.append(
                f"NTILE({buckets}) OVER (ORDER BY {metric_expr(metric)} {order}, c.id) "
                f"AS {name}_score"
            )
            extra.add(f"{name}_score")
            reads.append(metric)
        eligible_sql, eligible_params = conditions.to_sql(eligible, metric_expr)
        source = (
            f"{source} LEFT JOIN (SELECT c.id AS customer_id, {', '.join(windows)} "
            f"FROM customers_customer c JOIN grading_customermetrics m ON m.customer_id = c.id "
            f"WHERE {_kinds_sql(scheme)} AND c.status <> 'merged' AND {eligible_sql}) q "
            f"ON q.customer_id = c.id"
        )
        source_params = [*_kinds_params(scheme), *eligible_params]
        score_parts = []
        for dimension in dimensions:
            label, score_column = str(dimension["name"]).upper(), f"q.{dimension['name']}_score"
            score_parts.append(f"'{label}' || {sql.text(score_column)}")
        score_sql = " || ".join(score_parts)

    def column(name: str) -> str:
        return f"q.{name}" if name in extra else metric_expr(name)

    branches: list[tuple[str, list[Any], int]] = []
    if scheme.method in (Method.THRESHOLDS, Method.QUANTILES):
        for tier in tiers:
            if tier.is_fallback:
                continue
            node = _parse(tier.condition, tier.name(get_language() or "en"), extra)
            if node is None:
                raise DomainError(
                    _("Tier “%(name)s” has no condition.") % {"name": tier.name_en},
                    field="condition",
                )
            reads += [n for n in conditions.names(node) if n not in reads and n not in extra]
            branches.append((*conditions.to_sql(node, column), tier.pk))
    elif scheme.method == Method.CUMULATIVE:
        metric = str(config.get("metric", ""))
        _check_names([metric], set())
        reads.append(metric)
        cutoffs = config.get("cutoffs") or []
        previous = 0.0
        for code, share in cutoffs:
            if code not in by_code:
                raise DomainError(_("Unknown tier “%(name)s”.") % {"name": code}, field="cutoffs")
            if not previous < float(share) <= 1:
                raise DomainError(_("Cut-offs must rise between 0 and 1."), field="cutoffs")
            previous = float(share)
            branches.append(
                ("(q.total > 0 AND q.before < %s * q.total)", [float(share)], by_code[code].pk)
            )
        rest = config.get("rest")
        if rest not in by_code:
            raise DomainError(_("Name the tier for the rest."), field="rest")
        fallback = by_code[rest].pk
        value = metric_expr(metric)
        eligible_sql, eligible_params = conditions.to_sql(eligible, metric_expr)
        source = (
            f"{source} LEFT JOIN (SELECT c.id AS customer_id, "
            f"SUM(COALESCE({value}, 0)) OVER (ORDER BY COALESCE({value}, 0) DESC, c.id "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - COALESCE({value}, 0) AS before, "
            f"SUM(COALESCE({value}, 0)) OVER () AS total "
            f"FROM customers_customer c JOIN grading_customermetrics m ON m.customer_id = c.id "
            f"WHERE {_kinds_sql(scheme)} AND c.status <> 'merged' AND {eligible_sql}) q "
            f"ON q.customer_id = c.id"
        )
        source_params = [*_kinds_params(scheme), *eligible_params]
        score_sql = sql.text("CASE WHEN q.total > 0 THEN ROUND(100.0 * q.before / q.total, 1) END")
    elif scheme.method == Method.MATRIX:
        axes = {axis: config.get(axis) or {} for axis in ("x", "y")}
        for axis in axes.values():
            _check_names([str(axis.get("metric", ""))], set())
            reads.append(str(axis.get("metric")))
        cells = config.get("cells") or {}
        for cell in ("high_high", "high_low", "low_high", "low_low"):
            code = cells.get(cell)
            if code not in by_code:
                raise DomainError(_("Choose a tier for every cell of the matrix."), field="cells")
            x_high, y_high = cell.startswith("high"), cell.endswith("_high")
            x_sql = f"{metric_expr(axes['x']['metric'])} {'>=' if x_high else '<'} %s"
            y_sql = f"{metric_expr(axes['y']['metric'])} {'>=' if y_high else '<'} %s"
            branches.append(
                (
                    f"(({x_sql}) AND ({y_sql}))",
                    [axes["x"].get("at", 0), axes["y"].get("at", 0)],
                    by_code[code].pk,
                )
            )
    else:
        raise DomainError(_("Unknown method."), field="method")

    case_sql, case_params = _case(branches, fallback)
    explanation = [(name, column(name)) for name in dict.fromkeys(reads)] + [
        (name, f"q.{name}") for name in sorted(extra)
    ]
    if scheme.method in (Method.THRESHOLDS, Method.MATRIX):
        eligible_sql, eligible_params = conditions.to_sql(eligible, metric_expr)
        where_sql = (
            f"m.customer_id IS NOT NULL AND {_kinds_sql(scheme)} AND c.status <> 'merged' "
            f"AND {eligible_sql}"
        )
        where_params = [*_kinds_params(scheme), *eligible_params]
    else:  # the sub-query q holds exactly the eligible customers
        where_sql, where_params = "q.customer_id IS NOT NULL", []
    return Compiled(
        source=source,
        source_params=source_params,
        tier=f"CASE WHEN {where_sql} THEN {case_sql} END",
        tier_params=[*where_params, *case_params],
        score=f"CASE WHEN {where_sql} THEN {score_sql} ELSE '' END",
        score_params=[*where_params, *score_params],
        explanation=explanation,
        reads=list(dict.fromkeys(reads)),
    )


def _kinds_sql(scheme: Scheme) -> str:
    kinds = list(scheme.kinds or [])
    return f"c.kind IN ({', '.join(['%s'] * len(kinds))})" if kinds else "1=1"


def _kinds_params(scheme: Scheme) -> list[Any]:
    return list(scheme.kinds or [])


def stage(run_id: int, scheme_id: int, compiled: Compiled, *, changes_only: bool = True) -> int:
    """Grade every customer in one pass and write the rows to apply into the staging table.

    With `changes_only` (an evaluation) only customers whose grade changes are staged: a
    new or different rule tier or score, an override that ran out, or a grade to remove
    (staged with no tier) — so a run over unchanged facts writes next to nothing and builds
    explanations only for the rows it writes. Without it (a preview) every eligible customer
    is staged. Call inside a transaction: on PostgreSQL the quantile sorts get `work_mem`
    enough to stay in memory, and the staging table is analysed afterwards so that applying
    plans joins for its real size.
    """
    now = sql.timestamp(timezone.now())
    values = [
        f"{expression} AS x{number}"
        for number, (_name, expression) in enumerate(compiled.explanation)
    ]
    explanation = sql.json_object(
        [(name, f"d.x{number}") for number, (name, _expr) in enumerate(compiled.explanation)]
    )
    still = _active_override("g")
    inner = f"""SELECT c.id AS customer_id, {compiled.tier} AS tier_id,
            COALESCE({compiled.score}, '') AS score, g.customer_id AS graded,
            g.rule_tier_id AS rule_tier_id, g.score AS old_score,
            CASE WHEN g.override_tier_id IS NULL THEN 0 WHEN {still} THEN 1 ELSE 2 END
                AS override_state
            {"".join(", " + value for value in values)}
        FROM {compiled.source}
        LEFT JOIN grading_customergrade g ON g.customer_id = c.id AND g.scheme_id = %s
        {sql.fence()}"""
    if changes_only:
        # override_state: 0 none, 1 an expert's override still holds, 2 it ran out. A grade
        # whose rule gives no tier any more is removed, unless an override still holds it.
        wanted = f"""(d.tier_id IS NULL AND d.graded IS NOT NULL
                 AND (d.override_state <> 1 OR d.rule_tier_id IS NOT NULL))
            OR {sql.distinct("d.tier_id", "d.rule_tier_id")}
            OR (d.graded IS NOT NULL AND ({sql.distinct("d.score", "d.old_score")}
                                          OR d.override_state = 2))"""
    else:
        wanted = "d.tier_id IS NOT NULL"
    with connection.cursor() as cursor:
        sql.tune_for_staging()
        cursor.execute(
            "INSERT INTO grading_gradestage (run_id, customer_id, tier_id, score, explanation) "
            f"SELECT %s, d.customer_id, d.tier_id, d.score, "
            f"CASE WHEN d.tier_id IS NULL THEN '' ELSE {explanation} END "
            f"FROM ({inner}) d WHERE {wanted}",
            [
                run_id,
                *compiled.tier_params,
                *compiled.score_params,
                now,
                *compiled.source_params,
                scheme_id,
            ],
        )
        staged = int(cursor.rowcount)
        sql.analyze("grading_gradestage")
        return staged


def graded(scheme_id: int, since: dt.datetime) -> int:
    """How many customers hold a grade in the scheme, from the snapshot of an apply that
    began at or after `since` (none: nobody is graded)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COALESCE(SUM(customers), 0) FROM grading_tiersnapshot
            WHERE scheme_id = %s AND taken_at >= %s""",
            [scheme_id, sql.timestamp(since)],
        )
        return int(cursor.fetchone()[0])


def _active_override(alias: str) -> str:
    return (
        f"({alias}.override_tier_id IS NOT NULL AND ({alias}.override_expires_at IS NULL "
        f"OR {alias}.override_expires_at > %s))"
    )


def apply(run_id: int, scheme_id: int) -> int:
    """Swap the staged changes in: history for each change, then the grades; returns changes.

    The staging table holds only the customers whose grade changes (see `stage`): rows with
    a tier are updated or inserted, rows without one lose their grade. Every statement reads
    the staged rows and reaches the grades through their (scheme, customer) key.
    """
    now = sql.timestamp(timezone.now())
    active = _active_override("g")
    effective = f"CASE WHEN {active} THEN g.override_tier_id ELSE s.tier_id END"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO grading_gradechange
                (customer_id, scheme_id, from_tier_id, to_tier_id, changed_at, reason,
                 explanation, run_id)
            SELECT s.customer_id, %s, g.tier_id, {effective}, %s,
                CASE WHEN g.override_tier_id IS NOT NULL AND NOT {active}
                     THEN 'override_ended' ELSE 'evaluation' END,
                s.explanation, %s
            FROM grading_gradestage s
            LEFT JOIN grading_customergrade g
                ON g.customer_id = s.customer_id AND g.scheme_id = %s
            WHERE s.run_id = %s AND s.tier_id IS NOT NULL
                AND {sql.distinct("g.tier_id", effective)}""",
            [scheme_id, now, now, now, run_id, scheme_id, run_id, now],
        )
        changed = int(cursor.rowcount)
        # Customers no longer eligible (or whom no tier takes) lose their grade, with a
        # history row — unless an expert's override still holds it.
        cursor.execute(
            f"""INSERT INTO grading_gradechange
                (customer_id, scheme_id, from_tier_id, to_tier_id, changed_at, reason,
                 explanation, run_id)
            SELECT g.customer_id, g.scheme_id, g.tier_id, NULL, %s, 'evaluation', '', %s
            FROM grading_gradestage s
            JOIN grading_customergrade g
                ON g.customer_id = s.customer_id AND g.scheme_id = %s
            WHERE s.run_id = %s AND s.tier_id IS NULL AND g.tier_id IS NOT NULL
                AND NOT {active}""",
            [now, run_id, scheme_id, run_id, now],
        )
        changed += int(cursor.rowcount)
        held = _active_override("grading_customergrade")
        cursor.execute(
            f"""DELETE FROM grading_customergrade WHERE scheme_id = %s AND NOT {held}
                AND customer_id IN (
                    SELECT s.customer_id FROM grading_gradestage s
                    WHERE s.run_id = %s AND s.tier_id IS NULL)""",
            [scheme_id, now, run_id],
        )
        # An expert's override that still holds keeps the grade; the rule's tier goes.
        cursor.execute(
            """UPDATE grading_customergrade AS g SET rule_tier_id = NULL, score = '',
                explanation = '', evaluated_at = %s
            FROM grading_gradestage s
            WHERE s.run_id = %s AND s.tier_id IS NULL AND g.scheme_id = %s
                AND g.customer_id = s.customer_id""",
            [now, run_id, scheme_id],
        )
        # Rule tier or score changed, or the override ran out: the grade takes the staged
        # values and the explanation of this run; customers graded for the first time are
        # inserted through an anti-join.
        still = _active_override("g")
        cursor.execute(
            f"""UPDATE grading_customergrade AS g SET
                rule_tier_id = s.tier_id,
                tier_id = CASE WHEN {still} THEN g.override_tier_id ELSE s.tier_id END,
                override_tier_id = CASE WHEN {still} THEN g.override_tier_id ELSE NULL END,
                score = s.score,
                explanation = s.explanation,
                evaluated_at = %s
            FROM grading_gradestage s
            WHERE s.run_id = %s AND s.tier_id IS NOT NULL AND g.scheme_id = %s
                AND g.customer_id = s.customer_id""",
            [now, now, now, run_id, scheme_id],
        )
        cursor.execute(
            """INSERT INTO grading_customergrade
                (customer_id, scheme_id, tier_id, rule_tier_id, score, explanation,
                 evaluated_at, override_reason)
            SELECT s.customer_id, %s, s.tier_id, s.tier_id, s.score, s.explanation, %s, ''
            FROM grading_gradestage s
            WHERE s.run_id = %s AND s.tier_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM grading_customergrade g
                WHERE g.scheme_id = %s AND g.customer_id = s.customer_id)""",
            [scheme_id, now, run_id, scheme_id],
        )
        if int(cursor.rowcount) > 10_000:
            sql.analyze("grading_customergrade")
        cursor.execute("DELETE FROM grading_gradestage WHERE run_id = %s", [run_id])
        cursor.execute(
            """INSERT INTO grading_tiersnapshot (scheme_id, tier_id, taken_at, customers)
            SELECT %s, tier_id, %s, COUNT(*) FROM grading_customergrade
            WHERE scheme_id = %s GROUP BY tier_id""",
            [scheme_id, now, scheme_id],
        )
    return changed


def preview_matrix(run_id: int, scheme_id: int, *, examples: int = 3) -> dict[str, Any]:
    """How many customers would move from each tier to each other, with a few examples."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT g.tier_id, s.tier_id, COUNT(*) FROM grading_gradestage s
            LEFT JOIN grading_customergrade g ON g.customer_id = s.customer_id
                AND g.scheme_id = %s
            WHERE s.run_id = %s GROUP BY g.tier_id, s.tier_id""",
            [scheme_id, run_id],
        )
        counts = [
            {"from": row[0], "to": row[1], "customers": int(row[2])} for row in cursor.fetchall()
        ]
        cursor.execute(
            f"""SELECT from_tier, to_tier, customer_id, name FROM (
                SELECT g.tier_id AS from_tier, s.tier_id AS to_tier, s.customer_id, c.name,
                    ROW_NUMBER() OVER (PARTITION BY g.tier_id, s.tier_id
                                       ORDER BY s.customer_id) AS n
                FROM grading_gradestage s
                JOIN customers_customer c ON c.id = s.customer_id
                LEFT JOIN grading_customergrade g ON g.customer_id = s.customer_id
                    AND g.scheme_id = %s
                WHERE s.run_id = %s AND {sql.distinct("g.tier_id", "s.tier_id")}
            ) ranked WHERE n <= %s ORDER BY from_tier, to_tier, customer_id""",
            [scheme_id, run_id, examples],
        )
        samples: dict[str, list[dict[str, Any]]] = {}
        for from_tier, to_tier, customer_id, name in cursor.fetchall():
            samples.setdefault(f"{from_tier}->{to_tier}", []).append(
                {"id": customer_id, "name": name}
            )
        cursor.execute("DELETE FROM grading_gradestage WHERE run_id = %s", [run_id])
    return {"moves": counts, "examples": samples}

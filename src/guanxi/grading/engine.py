"""The grading engine: a scheme becomes one INSERT … SELECT that grades every customer.

Each method compiles to a SELECT of (customer, tier, score, explanation) over the metrics
table, written to a staging table; applying then records history for the customers whose
tier changes and swaps the grades in — in one transaction, so an interrupted evaluation
leaves the previous grades intact. Configuration of each method (`Scheme.config`):

- thresholds: tiers' own conditions, first match by rank wins, else the fallback tier;
- quantiles: {"dimensions": [{"name": "r", "metric": "recency_days", "better": "lower",
  "buckets": 5}, …]} adds `<name>_score` columns (1 worst … buckets best) that tiers'
  conditions read, first match by rank wins. A score is 1 + the cut-offs the customer's
  value beats: cut-off k of n is the value at position ceil(k·N/n) from the worst of the N
  graded customers with a value, so equal values share a score and a customer without a
  value scores 1 (`prepare` computes the cut-offs over the current metrics, see
  docs/architecture-notes.md);
- cumulative: {"metric": "revenue_12m", "cutoffs": [["a", 0.8], ["b", 0.95]],
  "rest": "c"}: sorted by the metric, a customer is in the first tier whose cut-off the
  cumulative share before them is under;
- matrix: {"x": {"metric": …, "at": n}, "y": {"metric": …, "at": n},
  "cells": {"high_high": tier, "high_low": tier, "low_high": tier, "low_low": tier}}.
Every method honours `config["eligible"]`, a condition a customer must meet to be graded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import DateTimeField, IntegerField
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError
from guanxi.customers.models import Customer
from guanxi.grading import conditions, metrics, sql, tiercounts
from guanxi.grading.models import CustomerMetrics, Method, MetricsState, Scheme, Tier


@dataclass(frozen=True)
class Dimension:
    """A quantile dimension: a metric's SQL over c and m, scored 1 (worst) … `buckets`."""

    name: str
    metric: str
    expression: str
    higher_is_better: bool
    buckets: int


@dataclass
class Compiled:
    """A scheme as SQL over every customer (alias c) and their metrics (alias m, maybe absent).

    `tier` is the rule's tier for an eligible customer and NULL for everyone else; `score`
    the method's score; `explanation` the (name, expression) pairs shown beside the grade.
    Each SQL text is followed by its own parameters.

    A quantile scheme reads every value once per customer: `layer` holds the (alias,
    expression) pairs — metrics over c and m, scores over them and the cut-offs — that
    `prepare` turns into a sub-query standing in for c, so that tiers, score and explanation
    read plain columns (`c.v0`, `c.r_score`, `c.is_eligible`) instead of repeating a CASE per
    reference. Until `prepare` has bound the cut-offs, `cutoffs` is None and the scheme
    cannot be staged.
    """

    source: str
    source_params: list[Any]
    tier: str
    tier_params: list[Any]
    score: str
    score_params: list[Any]
    explanation: list[tuple[str, str]]
    reads: list[str] = field(default_factory=list)
    dimensions: list[Dimension] = field(default_factory=list)
    layer: list[tuple[str, str]] = field(default_factory=list)
    # The graded customers (over c joined to m) whose values the cut-offs are taken from.
    population: str = ""
    population_params: list[Any] = field(default_factory=list)
    # Whether `population` reads nothing of the customer but its status (see _cutoffs).
    population_from_metrics: bool = False
    ageing: list[tuple[str, Any]] = field(default_factory=list)
    by_candidates: bool = False
    # Whether the rules read the customer's own row: kinds or custom fields.
    reads_customer: bool = False
    cutoffs: dict[str, list[Any]] | None = None
    # A prepared quantile scheme's source before the layer (see `prepare`).
    unlayered: str = ""

    def summary(self) -> dict[str, Any]:
        """What a run records beside its counts: a quantile scheme's cut-offs, worst first."""
        if not self.cutoffs:
            return {}
        return {
            "cutoffs": {
                name: [_plain(value) for value in values] for name, values in self.cutoffs.items()
            }
        }


def _plain(value: Any) -> Any:
    """A cut-off as a JSON number (Decimal is not one)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


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
    # A quantile scheme's `<name>_score` names and their SQL (a CASE over the cut-offs), and
    # the per-customer values its rules read (name → alias in the layer, see Compiled).
    scores: dict[str, str] = {}
    dimensions: list[Dimension] = []
    layered: dict[str, str] = {}

    def metric_expr(name: str) -> str:
        return metrics.column(name, as_of)

    # Every customer, graded or not: one not (or no longer) eligible gets no tier.
    source = "customers_customer c LEFT JOIN grading_customermetrics m ON m.customer_id = c.id"
    source_params: list[Any] = []
    score_sql, score_params = "''", list[Any]()
    reads: list[str] = []

    eligible = _parse(str(config.get("eligible") or ""), _("Eligibility"), set())
    # (metric, value) of every comparison of an ageing metric with a number: the days at which
    # a customer's grade can change with no fact changing (see `candidates`).
    ageing: list[tuple[str, Any]] = [
        (found.name, found.value)
        for found in conditions.comparisons(eligible)
        if found.name in metrics.AT_READ and found.value is not None
    ]
    reads += conditions.names(eligible)

    if scheme.method == Method.QUANTILES:
        raw_dimensions = config.get("dimensions") or []
        if not raw_dimensions:
            raise DomainError(
                _("A quantile scheme needs at least one dimension."), field="dimensions"
            )
        seen_names, seen_metrics = set(), set()
        for dimension in raw_dimensions:
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
            dimensions.append(
                Dimension(
                    name=name,
                    metric=metric,
                    expression=metric_expr(metric),
                    higher_is_better=dimension.get("better") != "lower",
                    buckets=buckets,
                )
            )
            scores[f"{name}_score"] = _score_sql(dimensions[-1])
            reads.append(metric)
        score_sql = " || ".join(
            f"'{dimension.name.upper()}' || {sql.text(f'c.{dimension.name}_score')}"
            for dimension in dimensions
        )

    def column(name: str) -> str:
        if scheme.method != Method.QUANTILES:
            return metric_expr(name)
        if name in scores:
            return f"c.{name}"
        return f"c.{layered.setdefault(name, f'v{len(layered)}')}"

    branches: list[tuple[str, list[Any], int]] = []
    if scheme.method in (Method.THRESHOLDS, Method.QUANTILES):
        for tier in tiers:
            if tier.is_fallback:
                continue
            node = _parse(tier.condition, tier.name(get_language() or "en"), set(scores))
            if node is None:
                raise DomainError(
                    _("Tier “%(name)s” has no condition.") % {"name": tier.name_en},
                    field="condition",
                )
            reads += [n for n in conditions.names(node) if n not in reads and n not in scores]
            ageing += [
                (found.name, found.value)
                for found in conditions.comparisons(node)
                if found.name in metrics.AT_READ and found.value is not None
            ]
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
            if str(axis.get("metric")) in metrics.AT_READ:
                ageing.append((str(axis.get("metric")), axis.get("at", 0)))
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
        (name, column(name)) for name in sorted(scores)
    ]
    eligible_sql, eligible_params = conditions.to_sql(eligible, metric_expr)
    population = f"{_kinds_sql(scheme)} AND c.status <> 'merged' AND {eligible_sql}"
    population_params = [*_kinds_params(scheme), *eligible_params]
    # Without kinds, and with eligibility and scores over stored metrics only, the graded
    # customers are read from the metrics alone (the merged ones by the partial index).
    uses_customer = re.compile(r"\bc\.")
    metrics_only = not scheme.kinds and not any(
        uses_customer.search(text) for text in [eligible_sql, *(d.expression for d in dimensions)]
    )
    where_params: list[Any] = []
    if scheme.method == Method.CUMULATIVE:  # the sub-query q holds exactly the eligible
        where_sql = "q.customer_id IS NOT NULL"
    elif scheme.method == Method.QUANTILES:  # the layer says who is eligible
        where_sql = "c.is_eligible = 1"
    else:
        where_sql = f"m.customer_id IS NOT NULL AND {population}"
        where_params = list(population_params)
    return Compiled(
        source=source,
        source_params=source_params,
        tier=f"CASE WHEN {where_sql} THEN {case_sql} END",
        tier_params=[*where_params, *case_params],
        score=f"CASE WHEN {where_sql} THEN {score_sql} ELSE '' END",
        score_params=[*where_params, *score_params],
        explanation=explanation,
        reads=list(dict.fromkeys(reads)),
        dimensions=dimensions,
        layer=[
            *((alias, metric_expr(name)) for name, alias in layered.items()),
            *((name, scores[name]) for name in sorted(scores)),
        ],
        population=population,
        population_params=population_params,
        population_from_metrics=metrics_only,
        ageing=ageing,
        # Only what a customer's own rows and the cut-offs decide can be staged from
        # candidates: no share across customers.
        by_candidates=scheme.method in (Method.THRESHOLDS, Method.MATRIX, Method.QUANTILES),
        reads_customer=bool(scheme.kinds) or any(name.startswith("custom.") for name in reads),
    )


def _score_sql(dimension: Dimension) -> str:
    """A dimension's score: 1 + the cut-offs its value beats (strictly), 1 without a value.

    The cut-offs rise from worse to better, so the first one beaten from the best down
    gives the score."""
    beats = ">" if dimension.higher_is_better else "<"
    branches = " ".join(
        f"WHEN {dimension.expression} {beats} cutoffs.{dimension.name}_{k} THEN {k + 1}"
        for k in range(dimension.buckets - 1, 0, -1)
    )
    return f"CASE {branches} ELSE 1 END"


def prepare(
    compiled: Compiled, near: dict[str, list[Any]] | None = None, days: int = 1
) -> Compiled:
    """The compiled scheme ready to stage: a quantile scheme's cut-offs computed over the
    current metrics (call it after refreshing them) and bound; other methods as they are.

    One query: on PostgreSQL `percentile_disc` per dimension; on SQLite (which has none)
    each dimension's values grouped with their counts, and the groups holding a cut-off's
    position picked from the running count — first only around the cut-offs `near` of an
    evaluation `days` before, when given.
    """
    if not compiled.dimensions:
        return compiled
    # A quantile scheme's source is customers and metrics, with no parameters of its own.
    prepared = replace(compiled, cutoffs=_cutoffs(compiled, near, days), unlayered=compiled.source)
    source, source_params = _layered(prepared, compiled.source)
    return replace(prepared, source=source, source_params=source_params)


def _layered(compiled: Compiled, source: str) -> tuple[str, list[Any]]:
    """A prepared quantile scheme's layer over the given source of customers (c) and metrics
    (m): every customer with the values the rules read, each computed once (the fence keeps
    either database from folding the sub-query back into one expression per reference)."""
    bound, params = [], []
    for dimension in compiled.dimensions:
        for k, value in enumerate((compiled.cutoffs or {})[dimension.name], start=1):
            bound.append(f"{_typed_parameter(value)} AS {dimension.name}_{k}")
            params.append(value)
    values = "".join(f", {expression} AS {alias}" for alias, expression in compiled.layer)
    layer = (
        f"(SELECT c.id, CASE WHEN m.customer_id IS NOT NULL AND {compiled.population} "
        f"THEN 1 ELSE 0 END AS is_eligible{values} "
        f"FROM (SELECT {', '.join(bound)}) cutoffs CROSS JOIN {source} {_fence()}) c"
    )
    return layer, [*compiled.population_params, *params]


def _fence() -> str:
    """`sql.fence()`, on SQLite too: an OFFSET keeps its planner from flattening the
    sub-query (it then runs it as a co-routine, once per row)."""
    return sql.fence() if sql.is_postgres() else "LIMIT -1 OFFSET 0"


def _typed_parameter(value: Any) -> str:
    """A cut-off parameter in its own type: PostgreSQL cannot compare a number with an
    untyped NULL, and comparing an integer metric with NUMERIC would cast every row."""
    if isinstance(value, int):
        return "CAST(%s AS BIGINT)"
    if isinstance(value, float):
        return "CAST(%s AS DOUBLE PRECISION)"
    return "CAST(%s AS NUMERIC)"


def _cutoffs(
    compiled: Compiled, near: dict[str, list[Any]] | None = None, days: int = 1
) -> dict[str, list[Any]]:
    """Each dimension's cut-offs, worse to better: cut-off k of n is the value at position
    ceil(k·N/n) of the N graded customers with a value, sorted from the worst (None when
    no one has a value). `near`: the cut-offs of an evaluation `days` before, which SQLite
    looks around first (see _cutoffs_near)."""
    dimensions = compiled.dimensions
    population = (
        "FROM customers_customer c JOIN grading_customermetrics m ON m.customer_id = c.id "
        f"WHERE {compiled.population}"
    )
    if compiled.population_from_metrics:  # no pass over every customer (~1 s at 1M)
        population = (
            "FROM grading_customermetrics m WHERE m.customer_id NOT IN "
            "(SELECT id FROM customers_customer WHERE status = 'merged') AND "
            + compiled.population.replace("c.status <> 'merged' AND ", "", 1)
        )
    found: dict[str, list[Any]] = {d.name: [None] * (d.buckets - 1) for d in dimensions}
    with transaction.atomic(), connection.cursor() as cursor:
        sql.tune_for_staging()
        if sql.is_postgres():
            # percentile_disc(f) is the value at position ceil(f·N) (f·N in float8; for n up
            # to 10 and N up to 20M it is the exact integer position).
            aggregates = ", ".join(
                "percentile_disc(CAST(%s AS double precision[])) WITHIN GROUP "
                f"(ORDER BY {d.expression} {'ASC' if d.higher_is_better else 'DESC'})"
                for d in dimensions
            )
            fractions = [[k / d.buckets for k in range(1, d.buckets)] for d in dimensions]
            cursor.execute(
                f"SELECT {aggregates} {population}", [*fractions, *compiled.population_params]
            )
            for dimension, values in zip(dimensions, cursor.fetchone(), strict=True):
                if values is not None:
                    found[dimension.name] = list(values)
            return found
        values = ", ".join(f"{d.expression} AS d{number}" for number, d in enumerate(dimensions))
        if near is not None:
            close = _cutoffs_near(compiled, population, values, near, days)
            if close is not None:
                return close
        # The `size` customers sharing a value v hold the positions (upto - size, upto] of
        # the N = `total`; cut-off k of n falls among them when upto - size < ceil(k·N/n) <=
        # upto, i.e. for k from (upto - size)·n // N + 1 to upto·n // N (integer division).
        parts = []
        for number, d in enumerate(dimensions):
            n, order = int(d.buckets), "ASC" if d.higher_is_better else "DESC"
            parts.append(
                f"""SELECT {number}, v, (upto - size) * {n} / total + 1, upto * {n} / total
                FROM (
                    SELECT v, size, SUM(size) OVER (ORDER BY v {order} ROWS UNBOUNDED PRECEDING)
                        AS upto, SUM(size) OVER () AS total
                    FROM (SELECT d{number} AS v, COUNT(*) AS size FROM population
                          WHERE d{number} IS NOT NULL GROUP BY d{number}) grouped
                ) running WHERE upto * {n} / total > (upto - size) * {n} / total"""
            )
        cursor.execute(
            f"WITH population AS (SELECT {values} {population}) {' UNION ALL '.join(parts)}",
            compiled.population_params,
        )
        for number, value, first, last in cursor.fetchall():
            dimension = dimensions[number]
            for k in range(int(first), min(int(last), dimension.buckets - 1) + 1):
                found[dimension.name][k - 1] = value
    return found


# How far around a previous cut-off to look, per day since: a share of its value, at least
# a few units.
NEAR_SHARE, NEAR_UNITS = Decimal("0.02"), Decimal(3)


def _cutoffs_near(
    compiled: Compiled,
    population: str,
    values: str,
    near: dict[str, list[Any]],
    days: int,
) -> dict[str, list[Any]] | None:
    """The cut-offs found around the previous ones (SQLite, which groups by sorting: grouping
    the 1M values of a continuous metric took 0.7 s, 1.7 s for all three of RFM). The values
    are computed once; a whole-number metric (counts, days: a few hundred values) is grouped
    whole; of another, the customers between the bands around the previous cut-offs are only
    counted and the values inside the bands grouped. A cut-off whose position falls in a band
    is the value there. None when a position falls between bands (the cut-offs moved
    further): then every value is grouped."""
    dimensions = compiled.dimensions
    bound = "CAST(%s AS NUMERIC)"
    # Per dimension, its values in ascending order as entries: ("count", condition, params)
    # for the customers between bands, ("band", index) for the values grouped in a band.
    entries: dict[int, list[tuple[Any, ...]]] = {}
    grouped, grouped_params = [], []
    for number, d in enumerate(dimensions):
        value = f"d{number}"
        if d.metric in _WHOLE_NUMBERS:
            entries[number] = [("band", 0)]
            grouped.append(
                f"SELECT {number}, 0, {value}, COUNT(*) FROM population "
                f"WHERE {value} IS NOT NULL GROUP BY {value}"
            )
            continue
        previous = near.get(d.name)
        if not previous or len(previous) != d.buckets - 1 or None in previous:
            return None
        wanted = []
        for was in previous:
            centre = Decimal(str(was))
            width = max(abs(centre) * NEAR_SHARE, NEAR_UNITS) * max(days, 1)
            wanted.append((centre - width, centre + width))
        merged: list[tuple[Decimal, Decimal]] = []
        for low, high in sorted(wanted):
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        listed: list[tuple[Any, ...]] = []
        for i, (low, high) in enumerate(merged):
            between = (
                (f"{value} < {bound}", [low])
                if i == 0
                else (f"{value} > {bound} AND {value} < {bound}", [merged[i - 1][1], low])
            )
            listed += [("count", *between), ("band", i)]
            grouped.append(
                f"SELECT {number}, {i}, {value}, COUNT(*) FROM population "
                f"WHERE {value} BETWEEN {bound} AND {bound} GROUP BY {value}"
            )
            grouped_params += [low, high]
        listed.append(("count", f"{value} > {bound}", [merged[-1][1]]))
        entries[number] = listed
    counted = [entry for listed in entries.values() for entry in listed if entry[0] == "count"]
    sums = ", ".join(f"SUM(CASE WHEN {entry[1]} THEN 1 ELSE 0 END)" for entry in counted)
    parts = [*grouped, *([f"SELECT -1, -1, json_array({sums}), 0 FROM population"] * bool(sums))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH population AS MATERIALIZED (SELECT {values} {population}) "
            + " UNION ALL ".join(parts),
            [
                *compiled.population_params,
                *[str(v) for v in grouped_params],
                *[str(v) for entry in counted for v in entry[2]],
            ],
        )
        counts: list[int] = []
        bands: dict[tuple[int, int], list[tuple[Any, int]]] = {}
        for number, band, found_value, size in cursor.fetchall():
            if int(number) < 0:
                counts = [int(count or 0) for count in json.loads(found_value)]
            else:
                bands.setdefault((int(number), int(band)), []).append((found_value, int(size)))
    sizes = iter(counts)
    found: dict[str, list[Any]] = {}
    for number, d in enumerate(dimensions):
        ordered: list[tuple[Any, int]] = []  # (value, or None between bands; customers)
        for entry in entries[number]:
            if entry[0] == "count":
                ordered.append((None, next(sizes)))
            else:
                ordered += sorted(bands.get((number, entry[1]), []))
        if not d.higher_is_better:  # worst first: the highest values
            ordered.reverse()
        total = sum(size for _value, size in ordered)
        cuts: list[Any] = [None] * (d.buckets - 1)
        for k in range(1, d.buckets if total else 1):
            position, upto = -(-k * total // d.buckets), 0
            for cut, size in ordered:
                upto += size
                if upto >= position:
                    if cut is None:  # between bands: not looked at closely
                        return None
                    cuts[k - 1] = cut
                    break
        found[d.name] = cuts
    return found


# Metrics whose values are whole numbers (counts, days): `_cutoffs_near` counts each one.
_WHOLE_NUMBERS = frozenset(
    field.name for field in CustomerMetrics._meta.concrete_fields if isinstance(field, IntegerField)
)


def _kinds_sql(scheme: Scheme) -> str:
    kinds = list(scheme.kinds or [])
    return f"c.kind IN ({', '.join(['%s'] * len(kinds))})" if kinds else "1=1"


def _kinds_params(scheme: Scheme) -> list[Any]:
    return list(scheme.kinds or [])


def stage(
    run_id: int,
    scheme_id: int,
    compiled: Compiled,
    *,
    changes_only: bool = True,
    among_candidates: bool = False,
) -> int:
    """Grade every customer in one pass and write the rows to apply into the staging table.

    With `changes_only` (an evaluation) only customers whose grade changes are staged: a
    new or different rule tier or score, an override that ran out, or a grade to remove
    (staged with no tier) — so a run over unchanged facts writes next to nothing and builds
    explanations only for the rows it writes. Without it (a preview) every eligible customer
    is staged. A quantile scheme must have been through `prepare`. Call inside a transaction:
    on PostgreSQL the cumulative sort gets `work_mem` enough to stay in memory, and a large
    staging (LOOKUPS_BELOW rows or more) is analysed afterwards so that applying plans joins
    for its real size (a smaller one is applied through index lookups).
    """
    if compiled.dimensions and compiled.cutoffs is None:
        raise ValueError("A quantile scheme is staged after engine.prepare.")
    now = sql.timestamp(timezone.now())
    values = [
        f"{expression} AS x{number}"
        for number, (_name, expression) in enumerate(compiled.explanation)
    ]
    explanation = sql.json_object(
        [(name, f"d.x{number}") for number, (name, _expr) in enumerate(compiled.explanation)]
    )
    still = _active_override("g")
    source, source_params = compiled.source, compiled.source_params
    if among_candidates:  # only the customers `candidates` collected, each by index
        every = compiled.unlayered if compiled.dimensions else source
        if not (compiled.by_candidates and every.startswith("customers_customer c ")):
            raise ValueError("This scheme is staged over every customer.")
        customers = f"{CANDIDATES} x JOIN customers_customer c ON c.id = x.customer_id"
        if _reads_of_customers(compiled) <= {"id", "status"}:
            # Nothing read of their rows but whether they were merged (the partial index):
            # a random read of each row less (~0.2 s a night at 1M on PostgreSQL).
            customers = (
                f"(SELECT x.customer_id AS id, CASE WHEN x.customer_id IN ("
                "SELECT id FROM customers_customer WHERE status = 'merged') "
                f"THEN 'merged' ELSE '' END AS status FROM {CANDIDATES} x) c"
            )
        source = f"{customers} " + every.removeprefix("customers_customer c ")
        if compiled.dimensions:
            source, source_params = _layered(compiled, source)
    inner = f"""SELECT c.id AS customer_id, {compiled.tier} AS tier_id,
            COALESCE({compiled.score}, '') AS score, g.customer_id AS graded,
            g.rule_tier_id AS rule_tier_id, g.score AS old_score,
            CASE WHEN g.override_tier_id IS NULL THEN 0 WHEN {still} THEN 1 ELSE 2 END
                AS override_state
            {"".join(", " + value for value in values)}
        FROM {source}
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
        if among_candidates:
            sql.tune_for_lookups()
        cursor.execute(
            "INSERT INTO grading_gradestage (run_id, customer_id, tier_id, score, explanation, "
            "is_new) "
            f"SELECT %s, d.customer_id, d.tier_id, d.score, "
            f"CASE WHEN d.tier_id IS NULL THEN '' ELSE {explanation} END, d.graded IS NULL "
            f"FROM ({inner}) d WHERE {wanted}",
            [
                run_id,
                *compiled.tier_params,
                *compiled.score_params,
                now,
                *source_params,
                scheme_id,
            ],
        )
        staged = int(cursor.rowcount)
        if staged >= LOOKUPS_BELOW:  # fewer are applied through index lookups (see apply)
            sql.analyze("grading_gradestage")
        return staged


def _reads_of_customers(compiled: Compiled) -> set[str]:
    """The columns of the customers table (alias c) that grading reads, besides the values
    a quantile scheme's layer puts under the same alias."""
    texts = [
        compiled.tier,
        compiled.score,
        compiled.population,
        *(expression for _name, expression in compiled.explanation),
        *(expression for _alias, expression in compiled.layer),
    ]
    layered = {alias for alias, _expression in compiled.layer} | {"is_eligible"}
    return {name for text in texts for name in re.findall(r"\bc\.(\w+)", text)} - layered


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


CANDIDATES = "grading_stage_candidates"
# Metrics columns with an index of their own (CustomerMetrics.Meta.indexes): `candidates`
# looks up the customers a condition on them holds rather than reading every row.
_SEARCHABLE = frozenset(
    index.fields[0] for index in CustomerMetrics._meta.indexes if len(index.fields) == 1
)


def _crossing_search(
    dimension: Dimension, was: Any, value: Any, graded_as_of: dt.date, as_of: dt.date
) -> tuple[str, list[Any]] | None:
    """A range of an indexed metrics column that holds every customer whose value may beat
    the cut-off `was` counted to `graded_as_of` and not `value` counted to `as_of`, or the
    reverse (the caller adds the exact test); None when there is no such range. A stored
    value (the same on both dates) lies between the two cut-offs; a count of days since a
    stored date has that date between the days on which it meets each cut-off."""
    if was is None or value is None:
        return None
    if dimension.expression == f"m.{dimension.metric}" and dimension.metric in _SEARCHABLE:
        column = dimension.expression
        return f"{column} >= %s AND {column} <= %s", [min(was, value), max(was, value)]
    dates = metrics.AGEING_DATES.get(dimension.metric, ())
    if len(dates) != 1 or not dates[0].startswith("m.") or dates[0][2:] not in _SEARCHABLE:
        return None
    # Days since the date d beat c on day D when D - d < c, i.e. d > D - c (more days are
    # better: d < D - c): the two sides differ for d in (low, high] (or [low, high)).
    column = dates[0]
    met = sorted(
        [graded_as_of - dt.timedelta(days=int(was)), as_of - dt.timedelta(days=int(value))]
    )
    shift = dt.timedelta(days=0 if dimension.higher_is_better else 1)
    return f"{column} >= %s AND {column} < %s", _day_bounds(column, [day + shift for day in met])


def _crosses(before: str, after: str, beats: str, parameter: str) -> str:
    """The value `before` beats the cut-off (the first parameter) and `after` does not beat
    the second, or the reverse; no value beats nothing."""
    return (
        f"COALESCE({before} {beats} {parameter}, FALSE) "
        f"<> COALESCE({after} {beats} {parameter}, FALSE)"
    )


def _day_bounds(column: str, days: list[dt.date]) -> list[Any]:
    """Days as bounds of a date column (alias c or m): for a moment column, the start of
    each day in the connection's time zone, in which days_between reads a moment's date."""
    alias, field = column.split(".")
    model = Customer if alias == "c" else CustomerMetrics
    if not isinstance(model._meta.get_field(field), DateTimeField):
        return list(days)
    zone = connection.timezone
    return [sql.timestamp(dt.datetime.combine(day, dt.time.min, tzinfo=zone)) for day in days]


# A fixed date to compile a scheme for its fingerprint: the rules, not the day.
_FINGERPRINT_DAY = dt.date(2000, 1, 1)


def fingerprint(scheme: Scheme) -> str:
    """A digest of the scheme's rules as compiled (tiers, conditions, configuration): equal
    digests grade equal metrics alike."""
    compiled = compile_scheme(scheme, _FINGERPRINT_DAY)
    text = repr(
        (
            scheme.kinds,
            compiled.source,
            compiled.source_params,
            compiled.tier,
            compiled.tier_params,
            compiled.score,
            compiled.score_params,
            compiled.explanation,
            compiled.layer,
            [(d.name, d.metric, d.higher_is_better, d.buckets) for d in compiled.dimensions],
            compiled.population,
            compiled.population_params,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def candidates(
    scheme_id: int,
    compiled: Compiled,
    *,
    since: dt.datetime,
    graded_as_of: dt.date,
    as_of: dt.date,
    cutoffs: dict[str, list[Any]] | None = None,
) -> int | None:
    """Collect into a scratch table the customers whose grade can differ from the last
    applied evaluation's (which began at `since`, as of `graded_as_of`, with these rules and,
    for a quantile scheme, the `cutoffs` it recorded): metrics rows whose figures the rules
    read changed since (see metrics.STAMPS; a new row has every figure changed; rules that
    read kinds or custom fields, every customer logged since: metrics.PENDING); customers
    for whom an ageing metric the rules compare with a number may have crossed it between the
    two dates (a range of their stored dates, two days wider on each side); customers whose
    value, counted to each date, beats a quantile cut-off on one side and not on the other;
    grades whose override has run out (the evaluation ends it); grades of merged customers.
    Everyone else would be graded as last time, so staging only these customers stages the
    same changes as a pass over everyone (a test compares both). Returns how many, or None
    when no cut-offs were recorded to compare with, or when the rules read customers' rows
    and a refresh since recomputed everyone (what changed was not recorded): everyone must
    be graded."""
    insert, ignore = sql.insert_ignoring(CANDIDATES)
    now = timezone.now()
    if compiled.reads_customer:
        # Changes to customers' rows are known from the logged customers incremental
        # refreshes keep (metrics.PENDING_KEPT): none yet, one since that recomputed everyone
        # (the log was dropped), or an evaluation longer ago than they are kept.
        state = MetricsState.objects.filter(pk=1).first()
        if (
            state is None
            or (state.recomputed_at is not None and state.recomputed_at > since)
            or since < now - metrics.PENDING_KEPT
        ):
            return None
    # (metric, the day it crossed the number then, the day it crosses it now)
    crossings = [
        (name, graded_as_of - dt.timedelta(days=int(value)), as_of - dt.timedelta(days=int(value)))
        for name, value in compiled.ageing
    ]
    ranges: list[tuple[str, str, list[Any]]] = []  # (m or c, condition, parameters)
    ranged: list[str] = []  # the metrics columns of those ranges
    # A quantile score moves when the customer's value beats a cut-off now and did not then,
    # or the reverse: compared exactly, the value then counted to the day graded then.
    crossed: list[tuple[str, list[Any]]] = []
    values: dict[str, str] = {}  # each value once per row: expression → its alias in v
    # The same customers looked up by index, when every condition has one (else None).
    searches: list[tuple[str, list[Any]]] | None = []
    for dimension in compiled.dimensions:
        old, new = (cutoffs or {}).get(dimension.name), (compiled.cutoffs or {})[dimension.name]
        if old is None or len(old) != len(new):
            return None
        beats = ">" if dimension.higher_is_better else "<"
        then = metrics.column(dimension.metric, graded_as_of)
        for was, value in zip(old, new, strict=True):
            typed = value if value is not None else was
            if isinstance(typed, Decimal) and was is not None:
                was = Decimal(str(was))
            if was == value and then == dimension.expression:
                continue
            parameter = _typed_parameter(typed)
            before = values.setdefault(then, f"v.x{len(values)}")
            after = values.setdefault(dimension.expression, f"v.x{len(values)}")
            crossed.append((_crosses(before, after, beats, parameter), [was, value]))
            search = _crossing_search(dimension, was, value, graded_as_of, as_of)
            if search is None or searches is None:
                searches = None
                continue
            exact = _crosses(then, dimension.expression, beats, parameter)
            searches.append((f"{search[0]} AND {exact}", [*search[1], was, value]))
    for name, day_then, day_now in crossings:
        low = min(day_then, day_now) - dt.timedelta(days=2)
        high = max(day_then, day_now) + dt.timedelta(days=2)
        for column in metrics.AGEING_DATES[name]:
            alias, field = column.split(".")
            ranges.append(
                (alias, f"{column} >= %s AND {column} < %s", _day_bounds(column, [low, high]))
            )
            if alias == "m":
                ranged.append(field)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CANDIDATES}")
        cursor.execute(f"CREATE TEMPORARY TABLE {CANDIDATES} (customer_id BIGINT PRIMARY KEY)")
        # The figures the rules read changed (every kind, for a new row), or none is read.
        stamps = metrics.stamps_for(compiled.reads) or ["refreshed_at"]
        if compiled.reads_customer:  # every customer logged since: their row may have changed
            cursor.execute(
                f"{insert} SELECT DISTINCT customer_id FROM {metrics.PENDING} "
                f"WHERE logged_at > %s{ignore}",
                [sql.timestamp(since)],
            )
        on_metrics = [(f"m.{stamp} > %s", [sql.timestamp(since)]) for stamp in stamps]
        on_metrics += [(text, params) for alias, text, params in ranges if alias == "m"]
        if searches is not None and all(column in _SEARCHABLE for column in [*stamps, *ranged]):
            # Few customers, each condition a range of an index: looked up, not read (RFM's
            # pass over the 1M rows took 0.7 s on PostgreSQL).
            for text, params in [*on_metrics, *searches]:
                cursor.execute(
                    f"{insert} SELECT m.customer_id FROM grading_customermetrics m "
                    f"WHERE {text}{ignore}",
                    params,
                )
            on_metrics, crossed = [], []
        # Else one pass over the metrics (and the customers, when a value reads one),
        # computing each value the cut-offs are compared with once.
        if on_metrics and not crossed and sql.is_postgres():
            # No value compared twice: a plain condition, which PostgreSQL reads with
            # parallel workers (never for an INSERT … SELECT): 0.3 s → 0.1 s at 1M.
            cursor.execute(
                "SELECT m.customer_id FROM grading_customermetrics m WHERE "
                + " OR ".join(f"({text})" for text, _p in on_metrics)
                + " LIMIT %s",
                [*(value for _text, params in on_metrics for value in params), LOOKUPS_BELOW],
            )
            listed = [row[0] for row in cursor.fetchall()]
            if len(listed) >= LOOKUPS_BELOW:
                return len(listed)  # too many: everyone is graded
            cursor.execute(f"{insert} SELECT unnest(CAST(%s AS bigint[])){ignore}", [listed])
        elif on_metrics:
            customers = any(re.search(r"\bc\.", expression) for expression in values)
            changed = " OR ".join(f"({text})" for text, _p in on_metrics)
            cursor.execute(
                f"{insert} SELECT v.customer_id FROM (SELECT m.customer_id, "
                f"CASE WHEN {changed} THEN 1 ELSE 0 END AS changed"
                + "".join(f", {expr} AS {alias[2:]}" for expr, alias in values.items())
                + " FROM grading_customermetrics m "
                + ("JOIN customers_customer c ON c.id = m.customer_id " if customers else "")
                + f"{_fence()}) v WHERE "
                + " OR ".join(["v.changed = 1", *(f"({text})" for text, _p in crossed)])
                + ignore,
                [value for _text, params in [*on_metrics, *crossed] for value in params],
            )
        for alias, text, params in ranges:
            if alias == "c":
                cursor.execute(
                    f"{insert} SELECT c.id FROM customers_customer c WHERE {text}{ignore}", params
                )
        # The few overrides and merged customers through their partial indexes: `+` keeps
        # SQLite from reading the scheme's grades by grade_unique instead, and CROSS JOIN
        # makes it start from the merged customers (PostgreSQL plans both freely).
        cursor.execute(
            f"""{insert} SELECT g.customer_id FROM grading_customergrade g
            WHERE +g.scheme_id = %s AND g.override_tier_id IS NOT NULL
                AND g.override_expires_at <= %s{ignore}""",
            [scheme_id, sql.timestamp(now)],
        )
        cursor.execute(
            f"""{insert} SELECT g.customer_id FROM customers_customer c
            CROSS JOIN grading_customergrade g
            WHERE c.status = 'merged' AND g.customer_id = c.id AND g.scheme_id = %s{ignore}""",
            [scheme_id],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {CANDIDATES}")
        found = int(cursor.fetchone()[0])
        sql.analyze(CANDIDATES)
        return found


# Fewer staged rows than this are applied through index lookups (see `apply`).
LOOKUPS_BELOW = 100_000


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
        sql.relaxed_commit()  # grades, history and notifications: recomputed if lost
        tiercounts.ensure()  # before the grades change: the counts follow every change
        cursor.execute("SELECT COUNT(*) FROM grading_gradestage WHERE run_id = %s", [run_id])
        if int(cursor.fetchone()[0]) < LOOKUPS_BELOW:
            # A day's changes: each staged row reaches its grade (and the follow-through its
            # customer) by index, rather than hashing the scheme's 1M grades (0.5 s a join).
            sql.tune_for_lookups()
        changed = 0
        postgres = sql.is_postgres()
        if not postgres:  # (PostgreSQL writes these with the grades: see below)
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
            changed += int(cursor.rowcount)
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
        # inserted (one graded meanwhile — an expert's override — is updated instead).
        grades_update = """UPDATE grading_customergrade AS g SET
                rule_tier_id = s.tier_id,
                tier_id = CASE WHEN {still} THEN g.override_tier_id ELSE s.tier_id END,
                override_tier_id = CASE WHEN {still} THEN g.override_tier_id ELSE NULL END,
                score = s.score,
                explanation = s.explanation,
                evaluated_at = %s
            FROM grading_gradestage s{also}
            WHERE s.run_id = %s AND s.tier_id IS NOT NULL AND g.scheme_id = %s
                AND g.customer_id = s.customer_id"""
        insert, ignore = sql.insert_ignoring("grading_customergrade")
        insert = f"""{insert}
                (customer_id, scheme_id, tier_id, rule_tier_id, score, explanation,
                 evaluated_at, override_reason)
            SELECT s.customer_id, %s, s.tier_id, s.tier_id, s.score, s.explanation, %s, ''
            FROM grading_gradestage s
            WHERE s.run_id = %s AND s.tier_id IS NOT NULL AND s.is_new{ignore}"""
        history = """INSERT INTO grading_gradechange
                (customer_id, scheme_id, from_tier_id, to_tier_id, changed_at, reason,
                 explanation, run_id)"""
        if postgres:
            # Each grade's history row from the same pass that writes it (reading the staged
            # customers' grades once more took 0.3 s a night for RFM at 1M): `old` is the
            # grade as it was when the statement began, the same row version (ctid).
            ended = f"old.override_tier_id IS NOT NULL AND NOT {_active_override('old')}"
            joined = grades_update.format(still=active, also=", grading_customergrade old")
            cursor.execute(
                f"""WITH updated AS ({joined}
                    AND old.ctid = g.ctid
                    RETURNING g.customer_id, old.tier_id AS from_tier, g.tier_id AS to_tier,
                        {ended} AS ended, s.explanation)
                {history}
                SELECT customer_id, %s, from_tier, to_tier, %s,
                    CASE WHEN ended THEN 'override_ended' ELSE 'evaluation' END,
                    explanation, %s
                FROM updated WHERE from_tier IS DISTINCT FROM to_tier""",
                [now, now, now, run_id, scheme_id, now, scheme_id, now, run_id],
            )
            changed += int(cursor.rowcount)
            cursor.execute(
                f"""WITH inserted AS ({insert} RETURNING customer_id, tier_id, explanation)
                {history}
                SELECT customer_id, %s, NULL, tier_id, %s, 'evaluation', explanation, %s
                FROM inserted""",
                [scheme_id, now, run_id, scheme_id, now, run_id],
            )
            changed += int(cursor.rowcount)
            inserted = int(cursor.rowcount)
        else:
            cursor.execute(
                grades_update.format(still=active, also=""), [now, now, now, run_id, scheme_id]
            )
            cursor.execute(insert, [scheme_id, now, run_id])
            inserted = int(cursor.rowcount)
        if inserted > 10_000:
            sql.analyze("grading_customergrade")
        cursor.execute("DELETE FROM grading_gradestage WHERE run_id = %s", [run_id])
        tiers, tiers_params = tiercounts.snapshot_sql(scheme_id)
        cursor.execute(
            f"""INSERT INTO grading_tiersnapshot (scheme_id, tier_id, taken_at, customers)
            SELECT %s, t.tier_id, %s, t.customers FROM ({tiers}) t""",
            [scheme_id, now, *tiers_params],
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

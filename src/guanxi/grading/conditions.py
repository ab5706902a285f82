"""Tier conditions: a small language an administrator types, compiled to SQL.

    revenue_12m >= 100000 and (order_count_12m >= 4 or tenure_days > 730)
    monthly_average_assets >= 5_000_000
    recency_days is empty

Names are metrics from the catalogue (guanxi.grading.metrics), custom numeric fields as
`custom.<key>`, or the scores a quantile scheme computes (`r_score`…). "and" binds tighter
than "or"; 且/或 work too. Written here rather than with a parser library because the
grammar is six rules and the error messages must name the user's mistake in their language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d[\d_]*(?:\.\d+)?)|(?P<op>>=|<=|!=|==|=|>|<)|(?P<paren>[()])"
    r"|(?P<name>[A-Za-z_\u4e00-\u9fff][\w.\u4e00-\u9fff]*))"
)
OPERATORS = {">=": ">=", "<=": "<=", "!=": "<>", "==": "=", "=": "=", ">": ">", "<": "<"}
AND_WORDS = {"and", "且", "并且"}
OR_WORDS = {"or", "或", "或者"}


class ConditionError(ValueError):
    """The condition cannot be read; `message` says where and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Comparison:
    name: str
    op: str  # an SQL operator, or "is null" / "is not null"
    value: Decimal | None


@dataclass(frozen=True)
class Junction:
    kind: str  # "and" | "or"
    parts: tuple[Node, ...]


Node = Comparison | Junction


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ConditionError(
                _("Cannot read the condition at “%(rest)s”.") % {"rest": text[position:][:20]}
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse(text: str) -> Node | None:
    """The condition's tree, None for an empty condition; ConditionError when unreadable."""
    tokens = _tokens(text)
    if not tokens:
        return None
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise ConditionError(_("The condition ends too early."))
        position += 1
        return tokens[position - 1]

    def word(token: tuple[str, str] | None, words: set[str]) -> bool:
        return token is not None and token[0] == "name" and token[1].lower() in words

    def junction(kind: str, words: set[str], inner: Callable[[], Node]) -> Node:
        parts = [inner()]
        while word(peek(), words):
            take()
            parts.append(inner())
        return parts[0] if len(parts) == 1 else Junction(kind, tuple(parts))

    def expression() -> Node:
        return junction("or", OR_WORDS, conjunction)

    def conjunction() -> Node:
        return junction("and", AND_WORDS, primary)

    def primary() -> Node:
        kind, value = take()
        if kind == "paren" and value == "(":
            node = expression()
            if take() != ("paren", ")"):
                raise ConditionError(_("A bracket is not closed."))
            return node
        if kind != "name" or value.lower() in AND_WORDS | OR_WORDS:
            raise ConditionError(_("Expected a metric name, found “%(token)s”.") % {"token": value})
        name = value
        follow = take()
        if follow[0] == "name" and follow[1].lower() == "is":
            negated = word(peek(), {"not"})
            if negated:
                take()
            last = take()
            if last[0] != "name" or last[1].lower() not in {"empty", "null"}:
                raise ConditionError(_("Write “is empty” or “is not empty”."))
            return Comparison(name, "is not null" if negated else "is null", None)
        if follow[0] != "op":
            raise ConditionError(
                _("Expected a comparison (>=, >, <=, <, =, !=) after “%(name)s”.") % {"name": name}
            )
        number = take()
        if number[0] != "number":
            raise ConditionError(
                _("Expected a number after “%(name)s %(op)s”.") % {"name": name, "op": follow[1]}
            )
        try:
            amount = Decimal(number[1].replace("_", ""))
        except InvalidOperation as error:
            raise ConditionError(
                _("“%(value)s” is not a number.") % {"value": number[1]}
            ) from error
        return Comparison(name, OPERATORS[follow[1]], amount)

    tree = expression()
    if peek() is not None:
        raise ConditionError(_("Unexpected “%(token)s”.") % {"token": peek()[1]})  # type: ignore[index]  # peek() was just checked
    return tree


def names(node: Node | None) -> list[str]:
    """The names a condition reads, in order of first use."""
    if node is None:
        return []
    if isinstance(node, Comparison):
        return [node.name]
    seen: list[str] = []
    for part in node.parts:
        seen += [name for name in names(part) if name not in seen]
    return seen


def comparisons(node: Node | None) -> list[Comparison]:
    """Every comparison in the condition, in order."""
    if node is None:
        return []
    if isinstance(node, Comparison):
        return [node]
    return [found for part in node.parts for found in comparisons(part)]


def to_sql(node: Node | None, column: Callable[[str], str]) -> tuple[str, list[object]]:
    """SQL and parameters for the condition; `column` maps a name to its SQL expression."""
    if node is None:
        return "1=1", []
    if isinstance(node, Comparison):
        if node.value is None:
            return f"({column(node.name)} {node.op.upper()})", []
        # CAST: SQLite compares a number with a bound text parameter as "number < text".
        return f"({column(node.name)} {node.op} CAST(%s AS NUMERIC))", [node.value]
    pieces, params = [], []
    for part in node.parts:
        sql, part_params = to_sql(part, column)
        pieces.append(sql)
        params += part_params
    return "(" + f" {node.kind.upper()} ".join(pieces) + ")", params

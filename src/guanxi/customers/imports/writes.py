"""Raw bulk reads and writes for the importer, one function per need, on both databases.

Rows are written as tuples of column values, never as model instances: PostgreSQL loads them
with COPY (psycopg `cursor.copy`, FIELD-NOTES: ~10x a multi-row INSERT), SQLite with one
prepared INSERT run over all rows (executemany). `Columns` turns attribute values into what
each column stores — encrypted tokens under the column's own context, JSON text, dates as the
backend wants them — so the stored rows are those the ORM would have written. Key lookups
bind one array (PostgreSQL `= ANY(%s)`) or one JSON list (SQLite `json_each`), so a batch of
any size is one statement with one parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from guanxi.core import crypto
from guanxi.core.crypto import EncryptedTextField

Converter = Callable[[Any], Any]


def _connection() -> BaseDatabaseWrapper:
    return connections[DEFAULT_DB_ALIAS]  # the proxy `django.db.connection` is slow per use


def _same(value: Any) -> Any:
    return value


def _converter(field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> Converter:
    """How one field's Python value becomes its stored value (as get_db_prep_save would)."""
    if isinstance(field, EncryptedTextField):
        context = field.context

        def sealed(value: Any) -> Any:
            return crypto.encrypt(value, context=context) if value else value

        return sealed
    if isinstance(field, models.JSONField):
        encoder = field.encoder

        def as_json(value: Any) -> Any:
            return None if value is None else json.dumps(value, cls=encoder)

        return as_json
    if isinstance(field, models.DateTimeField | models.DateField | models.DecimalField):
        if connection.vendor == "postgresql":
            return _same  # psycopg adapts date, aware datetime and Decimal itself

        # One timestamp serves a whole batch: remember the last value converted.
        last: list[tuple[Any, Any]] = [(object(), None)]

        def prepared(value: Any) -> Any:
            seen, stored = last[0]  # one read of a tuple: safe between threads
            if value is seen:
                return stored
            stored = field.get_db_prep_save(value, connection)
            last[0] = (value, stored)
            return stored

        return prepared
    return _same


class Columns:
    """Named columns of one model's table and the converters that fill them."""

    def __init__(self, model: type[models.Model], attnames: Sequence[str]) -> None:
        connection = _connection()
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        self.model = model
        self.attnames = list(attnames)
        self.fields = [by_attname[name] for name in self.attnames]
        self.converters = [_converter(field, connection) for field in self.fields]
        # Most columns store the attribute as it is: take them all in one C call, then
        # convert the few that need it in place.
        self._take = itemgetter(*self.attnames) if len(self.attnames) > 1 else None
        self._convert = [
            (index, convert)
            for index, convert in enumerate(self.converters)
            if convert is not _same
        ]

    @classmethod
    def of(cls, model: type[models.Model], *, skip: Iterable[str] = ()) -> Columns:
        """Every concrete column of the model but those named in `skip`."""
        skipped = set(skip)
        return cls(
            model,
            [
                field.attname
                for field in model._meta.concrete_fields
                if field.attname not in skipped
            ],
        )

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The stored values of one row from its attribute values (e.g. an instance's __dict__)."""
        if self._take is None:
            return (self.converters[0](values[self.attnames[0]]),)
        if not self._convert:
            return tuple(self._take(values))
        row = list(self._take(values))
        for index, convert in self._convert:
            row[index] = convert(row[index])
        return tuple(row)


def insert(
    columns: Columns, rows: Sequence[Sequence[Any]], *, ignore_conflicts: bool = False
) -> int:
    """Write rows of stored values into the model's table; the number of rows sent.

    COPY on PostgreSQL (or, with `ignore_conflicts`, INSERT … ON CONFLICT DO NOTHING), one
    prepared INSERT over all rows on SQLite. Runs in the caller's transaction.
    """
    if not rows:
        return 0
    connection = _connection()
    quote = connection.ops.quote_name
    table = quote(columns.model._meta.db_table)
    names = ", ".join(quote(field.column) for field in columns.fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not ignore_conflicts:
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return len(rows)
        marks = ", ".join(["%s"] * len(columns.fields))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608  (names from the model, values bound)
        if ignore_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        cursor.executemany(sql, rows)
    return len(rows)


def insert_rows(
    model: type[models.Model], objs: Sequence[models.Model], *, ignore_conflicts: bool = False
) -> None:
    """INSERT model instances (their primary key only when they carry one), with their
    auto_now values: for the few rows a batch writes besides its customers."""
    if not objs:
        return
    with_pk = objs[0].pk is not None
    columns = Columns(
        model,
        [f.attname for f in model._meta.concrete_fields if with_pk or not f.primary_key],
    )
    rows = []
    for obj in objs:
        for field in columns.fields:
            field.pre_save(obj, True)  # auto_now / auto_now_add
        rows.append(columns.row(obj.__dict__))
    insert(columns, rows, ignore_conflicts=ignore_conflicts)


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve the next `count` primary keys of a table, before inserting its rows.

    PostgreSQL: `nextval` of the id column's sequence, so concurrent writers never collide.
    SQLite: past both the highest id and the AUTOINCREMENT counter (a deleted id is never
    reused); safe because Guanxi's SQLite transactions are IMMEDIATE, i.e. hold the write
    lock from BEGIN, so no other writer can take the same ids meanwhile.
    """
    if count == 0:
        return []
    connection = _connection()
    table = model._meta.db_table
    column = model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [int(row[0]) for row in cursor.fetchall()]
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        sequence = int(cursor.fetchone()[0])
        cursor.execute(f"SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}")  # noqa: S608  (a model's table)
        highest = int(cursor.fetchone()[0])
    start = max(sequence, highest) + 1
    return list(range(start, start + count))


def _any(column: str, connection: BaseDatabaseWrapper) -> str:
    """`column` is one of the values bound as the one parameter (see `_bound`)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)"
    return f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608  (a column name)


def _bound(values: Iterable[Any], connection: BaseDatabaseWrapper) -> Any:
    items = list(values)
    return items if connection.vendor == "postgresql" else json.dumps(items)


def customers_holding(
    keys: dict[str, set[str]], *, contact_keys: set[str]
) -> list[tuple[str, str, int, str]]:
    """(column, value, customer id, status) of every customer whose column holds a wanted
    value, plus ("contact", value index, customer id, status) of every customer with a
    contact method of a wanted value index; merged customers only for `code`. One query."""
    from guanxi.customers.models import ContactMethod, Customer, CustomerStatus

    connection = _connection()
    quote = connection.ops.quote_name
    customers = quote(Customer._meta.db_table)
    parts: list[str] = []
    params: list[Any] = []
    for column, values in sorted(keys.items()):
        if not values:
            continue
        condition = _any(quote(column), connection)
        if column != "code":
            condition += " AND status <> %s"
        parts.append(
            f"SELECT %s, {quote(column)}, id, status FROM {customers} WHERE {condition}"  # noqa: S608  (names from the model)
        )
        params += [column, _bound(values, connection)]
        if column != "code":
            params.append(CustomerStatus.MERGED.value)
    if contact_keys:
        methods = quote(ContactMethod._meta.db_table)
        parts.append(
            f"SELECT %s, m.value_index, m.customer_id, c.status FROM {methods} m "  # noqa: S608
            f"JOIN {customers} c ON c.id = m.customer_id "
            f"WHERE {_any('m.value_index', connection)} AND c.status <> %s"
        )
        params += ["contact", _bound(contact_keys, connection), CustomerStatus.MERGED.value]
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [(str(a), str(b), int(c), str(d)) for a, b, c, d in cursor.fetchall()]


def ids_referenced(relations: Sequence[tuple[str, str]], ids: Sequence[int]) -> set[int]:
    """Which of `ids` some row of the (table, column) pairs refers to; one query."""
    if not relations or not ids:
        return set()
    connection = _connection()
    quote = connection.ops.quote_name
    parts = [
        f"SELECT {quote(column)} FROM {quote(table)} WHERE {_any(quote(column), connection)}"  # noqa: S608  (names from the models)
        for table, column in relations
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ".join(parts), [_bound(ids, connection)] * len(parts))
        return {int(row[0]) for row in cursor.fetchall()}


def delete_where_in(model: type[models.Model], column: str, ids: Sequence[int]) -> int:
    """DELETE the rows whose `column` is one of `ids`, without cascades or signals (the
    caller has dealt with both); the number of rows deleted."""
    if not ids:
        return 0
    connection = _connection()
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {_any(quote(column), connection)}",  # noqa: S608
            [_bound(ids, connection)],
        )
        return int(cursor.rowcount)


def _estimated_rows(model: type[models.Model]) -> int:
    connection = _connection()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        found = cursor.fetchone()
    return int(found[0]) if found else -1


class Statistics:
    """PostgreSQL: ANALYZE tables that an import has grown by half since the planner's last
    look, so that the batch lookups keep using indexes.

    Without fresh statistics the planner takes a table that grew from nothing for a small
    one and answers each key lookup with a sequential scan (measured: 110 ms at 100k rows
    instead of under 1 ms). A large table is left alone: ANALYZE of 1M customers costs
    ~0.5 s and its statistics hardly move. SQLite needs nothing.
    """

    def __init__(self, *models_: type[models.Model]) -> None:
        self.models = models_
        self.enabled = _connection().vendor == "postgresql"
        self.known = _estimated_rows(models_[0]) if self.enabled else 0
        self.added = 0
        if self.known < 0:  # never analysed (PostgreSQL 14+ says -1)
            self.grew(0)

    def grew(self, rows: int) -> None:
        """Count `rows` new rows in the first table; ANALYZE all once it grew by half."""
        if not self.enabled:
            return
        self.added += rows
        if self.known >= 0 and self.added * 2 < max(self.known, 500):
            return
        connection = _connection()
        names = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in self.models)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {names}")
        self.known = max(self.known, 0) + self.added
        self.added = 0


@contextmanager
def large_cache() -> Iterator[None]:
    """SQLite: a 256 MiB page cache for this connection while an import runs, instead of the
    default 2 MiB. Every new customer lands at a random place in several indexes (blind
    indexes are hashes), so with the default cache each row reads and writes index pages
    from disk. No effect on durability; PostgreSQL needs nothing."""
    connection = _connection()
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {min(before, -262144)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")

from __future__ import annotations

from typing import Any

import pytest
from tests.scopeapp.models import Record

from guanxi.core.pagination import BadCursor, keyset_page


@pytest.fixture
def rows(db: Any) -> list[Record]:
    titles = ["b", "a", "c", "a", "b", "a", "c"]
    return [Record.objects.create(title=title) for title in titles]


@pytest.mark.parametrize("ordering", [("-pk",), ("title",), ("-title",), ("title", "-pk")])
def test_walking_every_page_yields_each_row_once_in_order(
    rows: list[Record], ordering: tuple[str, ...]
) -> None:
    seen: list[int] = []
    cursor = None

    while True:
        page = keyset_page(Record.objects.all(), cursor=cursor, limit=2, ordering=ordering)
        seen += [row.pk for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    expected = list(Record.objects.order_by(*page.ordering).values_list("pk", flat=True))
    assert seen == expected


def test_the_last_page_has_no_cursor(rows: list[Record]) -> None:
    page = keyset_page(Record.objects.all(), limit=len(rows))

    assert page.next_cursor is None
    assert len(page.items) == len(rows)


@pytest.mark.parametrize("cursor", ["not base64 !!", "WzFd", "eyJ4IjoxfQ", "WyJ4Il0"])
def test_a_forged_cursor_raises_bad_cursor(rows: list[Record], cursor: str) -> None:
    with pytest.raises(BadCursor):
        keyset_page(Record.objects.all(), cursor=cursor, limit=2, ordering=("title",))

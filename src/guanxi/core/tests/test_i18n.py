"""Every catalogue is complete: no empty or fuzzy Chinese entry ships."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(
    [
        *PACKAGE.glob("locale/*/LC_MESSAGES/django.po"),
        *PACKAGE.glob("*/locale/*/LC_MESSAGES/django.po"),
    ]
)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_catalogue_has_no_missing_or_fuzzy_entries(path: Path) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle)

    missing = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]

    assert (missing, fuzzy) == ([], [])


def test_there_is_a_chinese_catalogue() -> None:
    assert PACKAGE / "locale/zh_Hans/LC_MESSAGES/django.po" in CATALOGUES

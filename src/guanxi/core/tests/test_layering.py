"""Architecture rules that a review would otherwise have to catch by eye."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2]
THIN = sorted(path for path in SRC.glob("*/*.py") if path.name in {"api.py", "views.py"})


@pytest.mark.parametrize("path", THIN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_handlers_and_views_never_build_querysets(path: Path) -> None:
    tree = ast.parse(path.read_text())

    uses = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"objects", "_default_manager"}
    ]

    assert uses == [], f"{path.name} touches .objects on lines {uses}: use a selector"


@pytest.mark.parametrize(
    "path", sorted(SRC.glob("*/**/*.py")), ids=lambda p: str(p.relative_to(SRC))
)
def test_no_domain_imports_another_domains_views_or_forms(path: Path) -> None:
    domain = path.relative_to(SRC).parts[0]
    tree = ast.parse(path.read_text())

    foreign = [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("guanxi.")
        and len(node.module.split(".")) >= 3
        and node.module.split(".")[1] not in {domain, "core"}
        and node.module.split(".")[2] in {"views", "forms", "templates", "admin"}
    ]

    assert foreign == []

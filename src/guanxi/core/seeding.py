"""Demo data: each domain's `demo.load()` adds its records, in INSTALLED_APPS order."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from django.apps import apps


def demo_load_all(*, force: bool = False) -> Iterator[str]:
    """Run every domain's demo loader; each is idempotent and yields lines to print."""
    for config in apps.get_app_configs():
        if not config.name.startswith("guanxi."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        yield from module.load(force=force)  # a list of lines to print

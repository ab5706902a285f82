"""Importing customers from a CSV file in a real browser: dry run, start, progress, errors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

ROWS = 40


@pytest.fixture
def spreadsheet(tmp_path: Path) -> Path:
    lines = ["姓名,类型,手机,城市"]
    lines += [f"客户{n},个人,1380000{n:04d},上海" for n in range(ROWS)]
    lines.append("坏客户,个人,123,上海")  # row 42: not a phone number
    path = tmp_path / "customers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_import_shows_its_dry_run_runs_to_the_end_and_offers_the_error_report(
    signed_in: Page,
    live_server: Any,
    settings: Any,
    tmp_path: Path,
    spreadsheet: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from guanxi.customers.imports import service

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASK_MODE = "thread"  # the import runs in the background while the page polls
    settings.IMPORT_BATCH_SIZE = 5
    write = service._write

    def slow_write(ctx: Any, plan: Any) -> None:  # ~3 s in all, so the progress bar shows
        time.sleep(0.35)
        write(ctx, plan)

    monkeypatch.setattr(service, "_write", slow_write)
    tab = signed_in

    tab.goto(f"{live_server.url}/customers/imports/")
    tab.locator("#import-upload input[type=file]").set_input_files(str(spreadsheet))
    tab.locator("#import-upload button[type=submit]").click()

    expect(tab.locator('[data-dry="rows"]')).to_have_text(str(ROWS + 1))
    expect(tab.locator('[data-dry="would_create"]')).to_have_text(str(ROWS))
    expect(tab.locator('[data-dry="invalid"]')).to_have_text("1")
    expect(tab.locator("#dry-run-errors tbody tr")).to_have_count(1)
    expect(tab.locator("#dry-run-errors tbody tr td").first).to_have_text(str(ROWS + 2))

    tab.locator("#start-import").click()

    expect(tab.locator("[data-status]")).to_have_attribute(
        "data-status", "completed", timeout=60_000
    )
    expect(tab.locator("#import-progress progress")).to_have_count(0)
    expect(tab.locator('[data-count="created"]')).to_have_text(str(ROWS))
    expect(tab.locator('[data-count="errors"]')).to_have_text("1")
    with tab.expect_download() as download:
        tab.locator("#error-report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert str(ROWS + 2) in report
    assert "not a valid phone number" in report
    assert "123" not in report.replace(str(ROWS + 2), "")

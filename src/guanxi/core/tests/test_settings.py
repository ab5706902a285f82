"""Production defaults: hashing, SQLite durability, deploy checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[4]


def _run(code: str, **env: str) -> str:
    result = subprocess.run(  # noqa: S603  (our own interpreter)
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "guanxi.settings", **env},
        timeout=120,
    )
    return result.stdout.strip()


def test_production_settings_hash_passwords_with_argon2(tmp_path: Path) -> None:
    first = _run(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.PASSWORD_HASHERS[0])",
        GUANXI_VAR_DIR=str(tmp_path),
    )

    assert first == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_a_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECRET_KEY)"
    )
    env = {"GUANXI_VAR_DIR": str(tmp_path)}
    os.environ.pop("SECRET_KEY", None)

    first, second = _run(code, **env), _run(code, **env)

    assert first == second
    assert len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite pragmas")
def test_sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys(db: Any, tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.db import connection;"
        "c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0],"
        " c.execute('PRAGMA synchronous').fetchone()[0],"
        " c.execute('PRAGMA foreign_keys').fetchone()[0])"
    )

    output = _run(code, GUANXI_VAR_DIR=str(tmp_path), DATABASE_URL="")

    assert output == "wal 2 1"


HTTPS_CHECKS = {"security.W004", "security.W008", "security.W012", "security.W016", "security.W021"}


def _deploy_warnings(tmp_path: Path, **env: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "ERROR"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "guanxi.settings",
            "DEBUG": "0",
            "GUANXI_VAR_DIR": str(tmp_path),
            "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
            **env,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return set(re.findall(r"\((security\.W\d+)\)", result.stdout + result.stderr))


def test_the_deploy_check_warns_only_about_https_settings_by_default(tmp_path: Path) -> None:
    warnings = _deploy_warnings(tmp_path)

    assert warnings <= HTTPS_CHECKS


def test_behind_a_tls_proxy_only_the_opt_in_hsts_preload_remains(tmp_path: Path) -> None:
    warnings = _deploy_warnings(tmp_path, GUANXI_HTTPS="1")

    assert warnings == {"security.W021"}


def test_hsts_preload_is_an_explicit_opt_in(tmp_path: Path) -> None:
    warnings = _deploy_warnings(tmp_path, GUANXI_HTTPS="1", GUANXI_HSTS_PRELOAD="1")

    assert warnings == set()

"""Test settings: the real settings plus a small scoped model, eager tasks, fast hashing."""

import os
import tempfile

os.environ.setdefault("GUANXI_PLAIN_STATIC", "1")
# Keys, the secret key and uploads of a test run live in a throwaway folder, never in var/.
os.environ.setdefault("GUANXI_VAR_DIR", tempfile.mkdtemp(prefix="guanxi-test-"))

from guanxi.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.scopeapp"]  # noqa: F405
TASK_MODE = os.environ.get("GUANXI_TASK_MODE", "eager")
# Argon2 is what production uses (see test_settings); tests hash thousands of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise warns when it is missing)

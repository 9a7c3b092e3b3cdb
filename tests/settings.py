"""Test settings: production settings with test-only secrets, immediate tasks and fast hashing."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-" + "x" * 50)
os.environ.setdefault("TREMPLIN_HTTPS", "false")
os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
os.environ.setdefault("EMAIL_BACKEND", "locmem")
os.environ.setdefault("SMS_BACKEND", "locmem")
os.environ.setdefault("TREMPLIN_DATA_DIR", tempfile.mkdtemp(prefix="tremplin-test-"))

from tremplin.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

"""Settings of the subprocesses of the crash test (worker, sweep, seeding, report).

The test settings, with the database named by DATABASE_URL and the database task backend
(both set in the subprocess's environment by the test), the slow file SMS backend, and a
claim timeout short enough for the test to see an abandoned claim expire.
"""

import os

from tests.settings import *  # noqa: F403

if "tremplin.notify" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "tremplin.notify"]  # noqa: F405
SMS_BACKEND = "tests.notify.backends.SlowFileSmsBackend"
SMS_FILE_PATH = os.environ["NOTIFY_TEST_SMS_FILE"]
NOTIFY_CLAIM_TIMEOUT = 1

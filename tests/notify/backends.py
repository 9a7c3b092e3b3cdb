"""SMS backends for tests only. The worker subprocess of the crash test imports them too
(``tests`` is on its PYTHONPATH)."""

import os
import time
from typing import ClassVar

from tremplin.notify.sms import BaseSmsBackend, FileSmsBackend, SmsGatewayError


class FailingSmsBackend(BaseSmsBackend):
    """A gateway that is down."""

    def send(self, to: str, text: str) -> None:
        raise ConnectionRefusedError("gateway unreachable")


class RefusingSmsBackend(BaseSmsBackend):
    """A gateway that refuses the message itself (an unknown number)."""

    def send(self, to: str, text: str) -> None:
        raise SmsGatewayError("SMS gateway answered HTTP 400: unknown number", permanent=True)


class BusySmsBackend(BaseSmsBackend):
    """A gateway over its quota, asking to come back in 15 minutes."""

    def send(self, to: str, text: str) -> None:
        raise SmsGatewayError("SMS gateway answered HTTP 429: slow down", retry_after=900)


class SlowFileSmsBackend(FileSmsBackend):
    """Appends each SMS to a file, then takes ``NOTIFY_TEST_SMS_DELAY`` seconds to return, as
    a gateway call would. After ``NOTIFY_TEST_SMS_HANG_AFTER`` sends in this process it stops
    answering: the SMS is handed over but the worker has not recorded it, the window where a
    crash is most dangerous."""

    sent_in_process: ClassVar[int] = 0

    def send(self, to: str, text: str) -> None:
        super().send(to, text)
        SlowFileSmsBackend.sent_in_process += 1
        hang_after = int(os.environ.get("NOTIFY_TEST_SMS_HANG_AFTER", "0"))
        if hang_after and SlowFileSmsBackend.sent_in_process >= hang_after:
            time.sleep(600)
        time.sleep(float(os.environ.get("NOTIFY_TEST_SMS_DELAY", "0")))

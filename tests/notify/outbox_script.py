"""Seeds and reads the outbox of the crash test's database, from a subprocess.

python -m tests.notify.outbox_script seed COUNT
python -m tests.notify.outbox_script report
"""

import json
import sys

import django


def phone(index: int) -> str:
    return f"+2126610{index:05d}"


def seed(count: int) -> None:
    from django.db import transaction

    from tremplin.notify.services import message_enqueue

    # One transaction, as a batch of decisions would be: the tasks are enqueued on commit.
    with transaction.atomic():
        for index in range(count):
            message_enqueue(
                channel="sms",
                to=phone(index),
                template="applicant_code",
                context={"code": f"{index:06d}", "minutes": 10, "reference": f"SMA-25-{index:04d}"},
                language="fr",
            )


def report() -> None:
    from django_scopes import scopes_disabled

    from tremplin.notify.models import Message

    with scopes_disabled():
        rows = Message.objects.values_list("recipient", "status", "attempts")
        json.dump({r: {"status": s, "attempts": a} for r, s, a in rows}, sys.stdout)


if __name__ == "__main__":
    django.setup()
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]))
    else:
        report()

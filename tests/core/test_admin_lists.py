"""The platform admin's lists of the audit log and the outbox: the only views of every
school's records, which are never purged, read in a number of queries that does not grow
with the rows shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.conftest import verified_client
from tests.factories import UserFactory
from tremplin.core.audit import log_action

pytestmark = pytest.mark.django_db


def queries_of_the_audit_list(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:core_auditevent_changelist")).status_code == 200
    return len(queries)


def test_the_audit_logs_admin_list_reads_actors_and_schools_with_its_rows(world):
    """Two queries a row (its actor, its school): 213 queries for a page of 100 events."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with scopes_disabled():
        admin = UserFactory(username="platform", is_staff=True, is_superuser=True)
        TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    client = verified_client(admin)

    def events(count: int) -> None:
        with scopes_disabled():
            for n in range(count):
                actor = UserFactory(username=f"actor-{count}-{n}")
                log_action("tremplin.test.event", actor=actor, school=world.smara, obj=actor)

    events(3)
    few = queries_of_the_audit_list(client)
    events(30)
    assert queries_of_the_audit_list(client) == few

"""The code page: a wrong code does the same work whether the session's reference and CIN
matched an application (it holds codes) or not, so its time does not tell a stranger which."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.admissions.open_intake import applied_through_the_portal
from tests.admissions.test_portal_codes import OWNER_IP, STRANGER_IP, ask
from tremplin.admissions.models import ApplicantCode


def wrong_code_statements(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("portal:code"), {"code": "000000"})
    assert response.status_code == 400
    # Values left out: hashes, times, ids, the session key.
    return [
        re.sub(r"'[^']*'|\"s\d+_x\d+\"|\b\d+\b", "?", q["sql"]) for q in captured.captured_queries
    ]


@pytest.mark.django_db
def test_a_wrong_code_runs_the_same_statements_with_or_without_codes(world):
    application = applied_through_the_portal(world.smara)
    matched, _ = ask(OWNER_IP, application.reference)
    unmatched, _ = ask(STRANGER_IP, application.reference, cin="ZZ999999")
    with scopes_disabled():
        assert ApplicantCode.objects.count() == 1  # the matched session's only

    wrong_code_statements(matched)  # the process's first code page
    with_codes = wrong_code_statements(matched)
    without_codes = wrong_code_statements(unmatched)

    assert with_codes == without_codes
    assert any(sql.startswith("UPDATE") and "admissions_applicantcode" in sql for sql in with_codes)
    if connection.vendor == "postgresql":
        # A transaction id either way: both commits wait for the log alike.
        assert any("pg_current_xact_id" in sql for sql in with_codes)
    with scopes_disabled():
        assert ApplicantCode.objects.get().attempts == 2

import pytest
from django.core.management import call_command
from django.test import Client
from django_scopes import scopes_disabled

from tremplin.core.models import Membership, User
from tremplin.schools.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tremplin.schools.models import BudgetLine, Partner, School, Track


def _counts() -> tuple[int, ...]:
    models = (School, Partner, Track, BudgetLine, User, Membership)
    return tuple(model.objects.count() for model in models)


@pytest.mark.django_db
def test_the_demo_loads_smara_and_running_it_again_changes_nothing(capsys):
    call_command("demo")
    with scopes_disabled():
        counts = _counts()
        call_command("demo")
        assert _counts() == counts
        school = School.objects.get(slug="smara")
        amounts = sorted(
            BudgetLine.objects.filter(grant__school=school).values_list("amount", flat=True)
        )
    assert [str(a) for a in amounts] == ["500000.00", "600000.00"]
    assert {"INDH", "ANAPEC", "WEB4JOBS"} <= set(Partner.objects.values_list("acronym", flat=True))
    assert DEMO_PASSWORD in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda a: a.username)
def test_every_demo_account_logs_in_and_lands_on_its_dashboard(account, settings):
    settings.TWO_FACTOR_REQUIRED = False  # as `make run` does, explicitly
    call_command("demo")
    client = Client()
    response = client.post(
        "/account/login/", {"username": account.username, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    final = response.redirect_chain[-1][0]
    expected = {
        "learner": "/learn/smara/",
        "coordinator": "/coordinator/",
        "admin": "/account/",
    }.get(account.role, "/staff/smara/")
    assert final == expected

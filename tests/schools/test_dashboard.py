import pytest
from django.urls import reverse
from django_scopes import ScopeError
from django_scopes import scope as school_scope

from tremplin.schools.models import Track


@pytest.mark.django_db
def test_the_dashboard_shows_the_grant_lines_and_total_in_each_language(world):
    client = world.client("director")
    url = reverse("schools:dashboard", kwargs={"school_slug": "smara"})
    fr = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "500\u202f000,00\xa0MAD" in fr
    assert "1\u202f100\u202f000,00\xa0MAD" in fr
    client.cookies["django_language"] = "ar"
    ar = client.get(url).content.decode()
    assert 'dir="rtl"' in ar
    assert "bootstrap.rtl.min.css" in ar
    assert "1.100.000,00\xa0د.م." in ar


@pytest.mark.django_db
def test_the_dashboard_query_count_does_not_grow_with_the_team_and_partners(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scopes_disabled

    from tests.factories import make_member
    from tremplin.schools.models import Partner, SchoolPartner

    client = world.client("director")
    url = reverse("schools:dashboard", kwargs={"school_slug": "smara"})
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(10):
        make_member(f"extra{n}", world.smara, "trainer")
        with scopes_disabled():
            partner = Partner.objects.create(name=f"Employeur {n}", kind="employer")
            SchoolPartner.objects.create(school=world.smara, partner=partner, role="employer")
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before)


@pytest.mark.django_db
def test_an_unscoped_query_on_school_data_fails_loudly(world):
    with pytest.raises(ScopeError):
        list(Track.objects.all())
    with school_scope(school=world.smara):
        assert {t.school_id for t in Track.objects.all()} == {world.smara.pk}


@pytest.mark.django_db
def test_the_public_page_works_in_arabic_and_says_no_call_is_open(world, client):
    client.cookies["django_language"] = "ar"
    page = client.get(reverse("public:school", kwargs={"school_slug": "smara"}))
    html = page.content.decode()
    assert 'lang="ar" dir="rtl"' in html
    assert world.smara.name_ar in html


@pytest.mark.django_db
def test_an_applicant_finds_her_space_from_any_public_page_even_with_no_call_open(world, client):
    """Last year's applicants are told to answer their offer in their space: the school's
    page with no call open, and the header of every page, lead there."""
    client.cookies["django_language"] = "en"
    space = reverse("portal:access")
    school = client.get(reverse("public:school", kwargs={"school_slug": "smara"})).content.decode()
    assert f'<a href="{space}">Already applied? Follow your application</a>' in school
    home = client.get(reverse("public:index")).content.decode()
    assert f'<a href="{space}">My application</a>' in home

"""What a screen reader hears when a line of the marks grid or of the attendance list saves
itself (an accessibility review, WCAG 2.2): the page has one live region, outside the lines,
and each line's answer updates it out of band; a message inside the new line was often not
read. A page sent back with errors says so in its title."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from tests.selection.assessment_builders import make_selection
from tests.selection.test_assessment_marks import _grid_url, _seat
from tremplin.selection.assessment_marks import marks_record

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def said(answer: str, region: str) -> str:
    """What a line's answer puts in the page's live region (an htmx out-of-band swap)."""
    (text,) = re.findall(rf'<p id="{region}" hx-swap-oob="innerHTML">(.*?)</p>', answer, re.S)
    return text.strip()


def _attendance_url(selection, session) -> str:
    return reverse("selection:test_attendance", args=[*selection.urls["test"], session.pk])


@pytest.fixture
def grid(world):
    selection = make_selection(world.smara, n=3)
    session, sittings = _seat(world, selection)
    return selection, session, sittings


def test_the_grids_live_region_is_outside_the_lines_and_starts_empty(world, grid):
    selection, session, _sittings = grid
    page = world.client("admissions").get(_grid_url(selection, session)).content.decode()
    before_the_lines = page.split("data-tp-grid")[0]
    assert '<p id="grid-said" class="visually-hidden" role="status"></p>' in before_the_lines
    assert page.count('id="grid-said"') == 1
    assert "hx-swap-oob" not in page
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert 'role="status"' not in rows and 'role="alert"' not in rows


def test_a_line_saved_says_so_in_the_pages_live_region(world, grid):
    selection, session, sittings = grid
    sitting = sittings[1]
    answer = world.client("admissions").post(
        _grid_url(selection, session), {f"m{sitting.pk}": "15,75"}, **HTMX
    )
    content = answer.content.decode()
    assert content.startswith(f'<tr id="row-{sitting.pk}"')  # the line htmx swaps
    row = content.split("</tr>")[0]
    assert "Saved" in row and 'role="status"' not in row
    assert said(content, "grid-said") == f"Candidate {sitting.candidate_number}: mark saved."


def test_a_line_refused_says_why_in_the_live_region_and_on_its_field(world, grid):
    selection, session, sittings = grid
    sitting = sittings[0]
    answer = world.client("admissions").post(
        _grid_url(selection, session), {f"m{sitting.pk}": "-3"}, **HTMX
    )
    content = answer.content.decode()
    row = content.split("</tr>")[0]
    assert f'aria-describedby="grid-help err-{sitting.pk}"' in row
    assert f'<div id="err-{sitting.pk}" class="errorlist mb-0">' in row
    assert 'role="alert"' not in row
    assert said(content, "grid-said") == (
        f"Candidate {sitting.candidate_number}: not saved. A mark lies between 0 and 20."
    )


def test_a_line_the_service_refuses_says_why_on_the_line_not_on_a_later_page(
    world, grid, monkeypatch
):
    selection, session, sittings = grid
    sitting = sittings[0]

    def refuse(**kwargs):
        raise ValidationError("Recorded absent, so no mark can be entered: 1.")

    monkeypatch.setattr("tremplin.selection.views_assessment.marks_record", refuse)
    client = world.client("admissions")
    answer = client.post(_grid_url(selection, session), {f"m{sitting.pk}": "12"}, **HTMX)
    assert said(answer.content.decode(), "grid-said") == (
        f"Candidate {sitting.candidate_number}: not saved. "
        "Recorded absent, so no mark can be entered: 1."
    )
    page = client.get(_grid_url(selection, session), HTTP_ACCEPT_LANGUAGE="en")
    assert "Recorded absent" not in page.content.decode()


def test_a_line_that_changed_nothing_says_nothing(world, grid):
    selection, session, sittings = grid
    with scope(school=world.smara):
        marks_record(
            component=selection.test,
            values={sittings[0].application_id: Decimal(12)},
            actor=world.users["admissions"],
        )
    answer = world.client("admissions").post(
        _grid_url(selection, session), {f"m{sittings[0].pk}": "12"}, **HTMX
    )
    assert "hx-swap-oob" not in answer.content.decode()


def test_the_whole_grid_sent_back_with_errors_says_so_in_its_title(world, grid):
    selection, session, sittings = grid
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    refused = client.post(_grid_url(selection, session), {f"m{sittings[0].pk}": "21"})
    assert refused.status_code == 400
    assert title(refused.content.decode()).startswith("Error: Marks — ")
    assert "hx-swap-oob" not in refused.content.decode()
    assert not title(client.get(_grid_url(selection, session)).content.decode()).startswith("Error")


def test_the_attendance_says_each_row_saved_in_the_pages_live_region(world, grid):
    selection, session, sittings = grid
    client = world.client("admissions")
    page = client.get(_attendance_url(selection, session)).content.decode()
    before_the_rows = page.split('class="tp-attendance"')[0]
    assert '<p id="attendance-said" class="visually-hidden" role="status"></p>' in before_the_rows
    sitting = sittings[2]
    answer = client.post(_attendance_url(selection, session), {f"p{sitting.pk}": "0"}, **HTMX)
    content = answer.content.decode()
    assert content.startswith('<li class="list-group-item tp-row')
    assert 'role="status"' not in content.split("</li>")[0]
    assert said(content, "attendance-said") == (
        f"Candidate {sitting.candidate_number}: attendance saved."
    )


def test_an_attendance_row_refused_says_why_once_and_ties_it_to_its_choices(world, grid):
    selection, session, sittings = grid
    sitting = sittings[0]
    with scope(school=world.smara):
        marks_record(
            component=selection.test,
            values={sitting.application_id: Decimal(12)},
            actor=world.users["admissions"],
        )
    client = world.client("admissions")
    answer = client.post(_attendance_url(selection, session), {f"p{sitting.pk}": "0"}, **HTMX)
    content = answer.content.decode()
    row = content.split("</li>")[0]
    assert f'aria-describedby="att-{sitting.pk}-error"' in row
    assert f'id="att-{sitting.pk}-error"' in row and 'role="alert"' not in row
    assert said(content, "attendance-said").startswith(
        f"Candidate {sitting.candidate_number}: not saved. "
    )
    # Without JavaScript, the page says it first, in its title and above the list only.
    client.cookies["django_language"] = "en"
    page = client.post(_attendance_url(selection, session), {f"p{sitting.pk}": "0"})
    assert page.status_code == 400
    content = page.content.decode()
    assert title(content).startswith("Error: Attendance — ")
    assert "errorlist" not in content and content.count('role="alert"') == 1

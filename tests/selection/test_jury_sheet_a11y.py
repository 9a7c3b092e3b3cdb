"""The juror's score sheet as a screen reader reads it (an accessibility review, WCAG 2.2): a
sheet sent back says so first, in its title and a summary linking to each field, and every
error is tied to its field; the title names the applicant's reference."""

import re
from decimal import Decimal

import pytest

from tests.selection.test_jury import Jury

pytestmark = pytest.mark.django_db


@pytest.fixture
def jury(world):
    return Jury(world)


def english(client):
    client.cookies["django_language"] = "en"
    return client


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def tag(page: str, element_id: str) -> str:
    """The opening tag of the element with this id."""
    found = re.findall(rf'<[a-z]+\b[^>]*\bid="{element_id}"[^>]*>', page)
    assert len(found) == 1, f"{len(found)} elements with id {element_id}"
    return found[0]


def summary_links(page: str) -> list[str]:
    found = re.search(r'<div id="error-summary"[^>]*autofocus[^>]*>(.*?)</div>', page, re.S)
    assert found, "no error summary"
    return re.findall(r'href="#([^"]+)"', found.group(1))


def assert_every_description_exists(page: str) -> None:
    for value in re.findall(r'aria-describedby="([^"]+)"', page):
        for element_id in value.split():
            tag(page, element_id)


def test_a_sheet_is_titled_with_the_applicants_reference(world, jury):
    slot = jury.slots[0]
    page = english(world.client("juror")).get(jury.url(slot)).content.decode()
    assert title(page) == f"Score sheet — {slot.application.reference} · Tremplin"


def test_an_amendment_without_a_reason_ties_the_error_to_the_reason(world, jury):
    """The reason's input pointed at id_reason_error, an id no element had."""
    client, slot = english(world.client("juror")), jury.slots[0]
    jury.submit(
        world.users["juror"], slot, scores={jury.levels.pk: Decimal(16), jury.free.pk: Decimal(13)}
    )
    data = {f"c{jury.levels.pk}": "12", f"c{jury.free.pk}": "13", "comment": "", "reason": ""}
    response = client.post(jury.url(slot, "jury_sheet_amend"), data)
    assert response.status_code == 400
    page = response.content.decode()
    reason = tag(page, "id_reason")
    assert 'aria-invalid="true"' in reason and 'aria-describedby="id_reason_error"' in reason
    assert "This field is required." in page.split('id="id_reason_error"')[1].split("</ul>")[0]
    assert summary_links(page) == ["id_reason"]
    assert title(page) == f"Error: Score sheet — {slot.application.reference} · Tremplin"
    assert_every_description_exists(page)


def test_a_level_or_a_mark_refused_is_tied_to_its_criterion(world, jury):
    client, slot = english(world.client("juror")), jury.slots[0]
    data = {f"c{jury.levels.pk}": "20", f"c{jury.free.pk}": "douze", "comment": ""}
    response = client.post(jury.url(slot), data)
    assert response.status_code == 400
    page = response.content.decode()
    levels, free = f"id_c{jury.levels.pk}", f"id_c{jury.free.pk}"
    # The levels' group is described by its error, and each of its choices is invalid.
    assert re.search(rf'<fieldset[^>]*aria-describedby="{levels}_error"[^>]*>', page)
    for index in range(3):
        assert 'aria-invalid="true"' in tag(page, f"{levels}_{index}")
    assert "Select a valid choice." in page.split(f'id="{levels}_error"')[1].split("</ul>")[0]
    mark = tag(page, free)
    assert 'aria-invalid="true"' in mark and f'aria-describedby="{free}_error"' in mark
    # Each link of the summary leads to a field of the page: the first level of the group.
    assert summary_links(page) == [f"{levels}_0", free]
    for target in summary_links(page):
        tag(page, target)
    assert title(page).startswith("Error: Score sheet")
    assert_every_description_exists(page)


def test_a_sheet_refused_as_a_whole_says_why_in_the_summary_once(world, jury):
    client, slot = english(world.client("juror")), jury.slots[0]
    data = {f"c{jury.levels.pk}": "12", "comment": "", "submit": "1"}
    page = client.post(jury.url(slot), data).content.decode()
    assert page.count("Score every criterion before submitting.") == 1
    assert "Score every criterion before submitting." in re.search(
        r'<div id="error-summary".*?</div>', page, re.S
    ).group(0)
    assert 'aria-invalid="true"' not in page


def test_a_sheet_without_errors_has_no_summary_and_no_invalid_field(world, jury):
    page = english(world.client("juror")).get(jury.url(jury.slots[0])).content.decode()
    assert 'id="error-summary"' not in page and "aria-invalid" not in page
    assert not title(page).startswith("Error")

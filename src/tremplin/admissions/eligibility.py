"""Eligibility rules of an intake, evaluated on plain values so that the portal, the
importer and a re-check share one definition.

A failed rule is stored as ``{"rule": code, "params": {...}}`` and rendered in the reader's
language by ``describe``, so an applicant reading in Arabic and an officer reading in French
see the same reason each in their own language.
"""

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tremplin.core.formatting import format_list


@dataclass(frozen=True)
class Rules:
    reference_date: datetime.date
    min_age: int
    max_age: int
    province_ids: frozenset[int] = field(default_factory=frozenset)
    commune_ids: frozenset[int] = field(default_factory=frozenset)
    education_levels: frozenset[str] = field(default_factory=frozenset)
    employment_situations: frozenset[str] = field(default_factory=frozenset)
    required_documents: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        intake,
        *,
        province_ids: Iterable[int] | None = None,
        commune_ids: Iterable[int] | None = None,
    ) -> "Rules":
        """The rules of ``intake``; a caller that already read its provinces and communes of
        residence passes their ids, else they are read here."""
        if province_ids is None:
            province_ids = intake.provinces.values_list("pk", flat=True)
        if commune_ids is None:
            commune_ids = intake.communes.values_list("pk", flat=True)
        return cls(
            reference_date=intake.reference_date,
            min_age=intake.min_age,
            max_age=intake.max_age,
            province_ids=frozenset(province_ids),
            commune_ids=frozenset(commune_ids),
            education_levels=frozenset(intake.education_levels),
            employment_situations=frozenset(intake.employment_situations),
            required_documents=tuple(intake.required_documents),
        )

    def digest(self) -> str:
        """A fingerprint of these rules: equal for equal rules, whatever the order of their
        lists (a re-check applies what its preview showed only under the same rules)."""
        canonical = {
            name: sorted(value) if isinstance(value, frozenset | tuple) else value
            for name, value in vars(self).items()
        }
        text = json.dumps(canonical, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def conditions(intake) -> dict[str, list]:
    """The call's rules of residence, education, situation and documents as people read them
    (the public page, the staff page): its provinces and communes, and the labels of the
    codes it chose, in the reader's language and in the order of the choices (an empty list:
    no such rule)."""
    from tremplin.admissions.choices import DocumentKind, EducationLevel, Employment

    def labels(choices, chosen) -> list[str]:
        return [label for code, label in choices.choices if code in chosen]

    return {
        "provinces": list(intake.provinces.all()),
        "communes": list(intake.communes.all()),
        "levels": labels(EducationLevel, intake.education_levels),
        "situations": labels(Employment, intake.employment_situations),
        "documents": labels(DocumentKind, intake.required_documents),
    }


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def evaluate(
    rules: Rules,
    *,
    birth_date: datetime.date,
    commune_id: int,
    province_id: int,
    education_level: str,
    employment: str,
    documents: Iterable[str] = (),
) -> list[dict]:
    """The rules the applicant fails (empty when eligible)."""
    failed = []
    age = age_on(birth_date, rules.reference_date)
    if not rules.min_age <= age <= rules.max_age:
        failed.append(
            {
                "rule": "age",
                "params": {
                    "age": age,
                    "min": rules.min_age,
                    "max": rules.max_age,
                    "date": rules.reference_date.isoformat(),
                },
            }
        )
    residence_rules = rules.province_ids or rules.commune_ids
    if residence_rules and not (
        province_id in rules.province_ids or commune_id in rules.commune_ids
    ):
        failed.append(
            {
                "rule": "residence",
                "params": {
                    "provinces": sorted(rules.province_ids),
                    "communes": sorted(rules.commune_ids),
                },
            }
        )
    if rules.education_levels and education_level not in rules.education_levels:
        failed.append({"rule": "education", "params": {"level": education_level}})
    if rules.employment_situations and employment not in rules.employment_situations:
        failed.append({"rule": "employment", "params": {"situation": employment}})
    missing = [kind for kind in rules.required_documents if kind not in set(documents)]
    if missing:
        failed.append({"rule": "documents", "params": {"missing": missing}})
    return failed


def describe(reason: Mapping) -> str:
    """One failed rule, in the active language, for the applicant and the staff."""
    from tremplin.admissions.choices import DocumentKind, EducationLevel, Employment
    from tremplin.core.formatting import format_date

    params = reason.get("params", {})
    rule = reason.get("rule")
    if rule == "age":
        return _(
            "Applicants must be %(min)s to %(max)s years old on %(date)s; "
            "you are %(age)s on that date."
        ) % {
            "min": params["min"],
            "max": params["max"],
            "age": params["age"],
            "date": format_date(datetime.date.fromisoformat(params["date"])),
        }
    if rule == "residence":
        places = _places(params)
        if not places:  # a reason recorded before the places were
            return _("This call is for residents of the communes or provinces it lists.")
        if len(places) == 1:
            return _("This call is for residents of %(place)s.") % {"place": places[0]}
        return _("This call is for residents of one of these places: %(places)s.") % {
            "places": format_list(places, "or")
        }
    if rule == "education":
        return _("Your education level (%(level)s) is not among those this call accepts.") % {
            "level": EducationLevel(params["level"]).label
        }
    if rule == "employment":
        return _("This call is for young people in another situation than yours (%(s)s).") % {
            "s": Employment(params["situation"]).label
        }
    if rule == "documents":
        labels = format_list(DocumentKind(kind).label for kind in params["missing"])
        return _("Missing documents: %(documents)s.") % {"documents": labels}
    return _("Another eligibility rule is not met.")


def _places(params: Mapping) -> list[str]:
    """The provinces and communes of a residence rule, named in the active language."""
    from tremplin.admissions.portal_reads import Geography
    from tremplin.core.i18n import localized

    labels = {"province": _("%(name)s (province)"), "commune": _("%(name)s (commune)")}
    places = []
    for kind, label in labels.items():
        for pk in params.get(f"{kind}s", ()):
            place = Geography.find(kind, pk)
            if place is not None:  # else removed from the reference data since
                places.append(label % {"name": localized(place, "name")})
    return places


def describe_for_staff(reason: Mapping) -> str:
    """A failed rule as staff read it: about the applicant, not addressed to them
    (``eligibility.describe`` speaks to the applicant where its sentence names them)."""
    from tremplin.admissions.choices import EducationLevel, Employment
    from tremplin.core.formatting import format_date

    params = reason.get("params", {})
    rule = reason.get("rule")
    if rule == "age":
        return _("Age on %(date)s: %(age)s; the call accepts %(min)s to %(max)s.") % {
            "date": format_date(datetime.date.fromisoformat(params["date"])),
            "age": params["age"],
            "min": params["min"],
            "max": params["max"],
        }
    if rule == "education":
        return _("Education level (%(level)s) not among those the call accepts.") % {
            "level": EducationLevel(params["level"]).label
        }
    if rule == "employment":
        return _("Situation (%(situation)s) not among those the call accepts.") % {
            "situation": Employment(params["situation"]).label
        }
    return describe(reason)  # the other sentences name nobody

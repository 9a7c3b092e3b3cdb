"""Closed lists shared by intakes, applications and imports."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Sex(models.TextChoices):
    FEMALE = "F", _("woman")
    MALE = "M", _("man")


class EducationLevel(models.TextChoices):
    NONE = "none", _("no schooling")
    PRIMARY = "primary", _("primary school")
    MIDDLE = "middle", _("middle school (collège)")
    SECONDARY = "secondary", _("secondary school, no baccalaureate")
    BAC = "bac", _("baccalaureate")
    BAC2 = "bac2", _("baccalaureate + 2 (DTS, DUT, BTS)")
    LICENCE = "licence", _("bachelor's degree (licence)")
    MASTER = "master", _("master's degree or more")
    VOCATIONAL = "vocational", _("vocational training diploma")


class Employment(models.TextChoices):
    # NEET: not in employment, education or training, the programme's first public.
    NEET = "neet", _("neither working nor studying")
    JOBSEEKER_TRAINING = "training", _("in training")
    STUDENT = "student", _("student")
    EMPLOYED = "employed", _("employed")
    SELF_EMPLOYED = "self_employed", _("self-employed")
    INFORMAL = "informal", _("occasional or informal work")


class DocumentKind(models.TextChoices):
    CIN = "cin", _("copy of the national identity card")
    DIPLOMA = "diploma", _("last diploma or school certificate")
    PHOTO = "photo", _("photo")
    RESIDENCE = "residence", pgettext_lazy("document", "proof of residence")
    OTHER = "other", pgettext_lazy("document", "other document")

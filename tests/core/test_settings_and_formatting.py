import datetime
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import translation

from tremplin.core.formatting import format_date, format_list, format_money
from tremplin.env import env_bool, env_int, env_str


def test_money_follows_each_languages_moroccan_convention():
    assert format_money(Decimal("500000"), "fr") == "500\u202f000,00\xa0MAD"
    assert format_money(Decimal("500000"), "ar") == "\u200f500.000,00\xa0د.م.\u200f"


def test_arabic_dates_use_moroccan_month_names_and_latin_digits():
    assert format_date(datetime.date(2025, 9, 15), language="ar") == "15 شتنبر 2025"
    assert format_date(datetime.date(2025, 9, 15), language="fr") == "15 septembre 2025"


def test_french_writes_the_first_of_a_month_as_an_ordinal():
    first = datetime.date(2029, 2, 1)
    assert format_date(first, language="fr") == "1er février 2029"
    assert format_date(first, "full", language="fr") == "jeudi 1er février 2029"
    assert format_date(datetime.date(2029, 2, 11), language="fr") == "11 février 2029"
    assert format_date(datetime.date(2031, 2, 21), language="fr") == "21 février 2031"
    assert format_date(first, language="ar") == "1 فبراير 2029"
    assert format_date(first, language="en") == "February 1, 2029"


def test_a_bad_boolean_stops_with_the_variables_name(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG", False)


def test_a_bad_integer_and_a_too_small_one_are_refused(monkeypatch):
    monkeypatch.setenv("EMAIL_PORT", "twenty")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT"):
        env_int("EMAIL_PORT", 587)
    monkeypatch.setenv("EMAIL_PORT", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("EMAIL_PORT", 587, minimum=1)


def test_a_secret_can_come_from_a_file_but_not_from_both(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
    assert env_str("SECRET_KEY") == "s3cret"
    monkeypatch.setenv("SECRET_KEY", "other")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_str("SECRET_KEY")


def _start(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "tremplin.settings"
    return subprocess.run(
        [sys.executable, "-m", "tremplin", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _start({})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_a_command_that_needs_the_models_says_the_configuration_error_in_one_line():
    """Django skips its set-up when the settings do not load. Whether a system check then
    asks for the models before anything reads a setting depends on the order of a set of
    functions, so on the process's memory; makemigrations then failed with a traceback
    about the models. Runs with environments of several sizes meet both orders."""
    tremplin = str(Path(sys.executable).parent / "tremplin")  # the console script
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env["DJANGO_SETTINGS_MODULE"] = "tremplin.settings"
    for size in range(8):
        result = subprocess.run(
            [tremplin, "makemigrations"],
            env={**env, "TREMPLIN_TEST_PADDING": "x" * 997 * size},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (result.returncode, result.stderr) == (
            2,
            "tremplin: configuration error: The environment variable SECRET_KEY is required.\n",
        )


def test_production_refuses_an_unknown_database_url():
    result = _start({"SECRET_KEY": "x" * 60, "DATABASE_URL": "mysql://db/x"})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_a_site_url_without_its_scheme_is_refused():
    result = _start({"SECRET_KEY": "x" * 60, "SITE_URL": "tremplin.example.org"})
    assert result.returncode != 0
    assert "SITE_URL must start with https://" in result.stderr


def test_the_deploy_check_refuses_the_demo_relaxations(settings):
    settings.DEMO_MODE = True
    settings.TWO_FACTOR_REQUIRED = False
    with pytest.raises(SystemCheckError) as error:
        call_command("check", "--deploy", "--fail-level", "ERROR", tags=["security"])
    assert "tremplin.E001" in str(error.value)
    assert "tremplin.E002" in str(error.value)


def test_a_list_is_joined_with_each_languages_own_words_and_its_items_escaped():
    from django.template import Context, Template

    template = Template('{% load tremplin %}{{ items|join_list }} / {{ items|join_list:"or" }}')
    items = ["<b>A</b>", "B", "C"]
    with translation.override("fr"):
        assert template.render(Context({"items": items})) == (
            "&lt;b&gt;A&lt;/b&gt;, B et C / &lt;b&gt;A&lt;/b&gt;, B ou C"
        )
    with translation.override("ar"):
        assert format_list(["أ", "ب", "ج"]) == "أ وب وج"


def test_items_written_in_a_loop_are_separated_in_each_languages_way():
    from django.template import Context, Template

    template = Template(
        "{% load tremplin %}{% for i in items %}<b>{{ i }}</b>"
        "{% if not forloop.last %}{% list_separator %}{% endif %}{% endfor %}"
    )
    with translation.override("ar"):
        assert template.render(Context({"items": ["أ", "ب"]})) == "<b>أ</b>، <b>ب</b>"
    with translation.override("fr"):
        assert template.render(Context({"items": ["a", "b"]})) == "<b>a</b>, <b>b</b>"


def test_a_colon_after_a_label_follows_each_languages_typography():
    from django.template import Context, Template
    from django.utils import translation

    template = Template('{% load i18n tremplin %}{% translate "Eligibility" %}{% colon %} x')
    with translation.override("fr"):
        assert template.render(Context()) == "Éligibilité\u00a0: x"
    with translation.override("ar"):
        assert template.render(Context()) == "الأهلية: x"
    with translation.override("en"):
        assert template.render(Context()) == "Eligibility: x"


@pytest.mark.parametrize(
    ("url", "jit", "options"),
    [
        ("postgres://db/tremplin", "", "-c jit=off"),
        ("postgres://db/tremplin?options=-c%20statement_timeout%3D5000", "",
         "-c statement_timeout=5000 -c jit=off"),
        ("postgres://db/tremplin", "true", None),
    ],
)  # fmt: skip
def test_postgresql_connections_turn_its_jit_compiler_off_unless_asked(url, jit, options):
    """It compiled the staff list's counts for longer than they took (1 s for one count)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(SECRET_KEY="x" * 60, DATABASE_URL=url, DATABASE_JIT=jit)
    printed = subprocess.run(
        [sys.executable, "-c", "import json; from tremplin import settings; "
         "print(json.dumps(settings.DATABASES['default']['OPTIONS'].get('options')))"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert json.loads(printed) == options


def test_references_in_a_sentence_stay_whole_and_the_rest_is_escaped():
    """On a phone's narrow line, « (SMA-26-0009) » broke at its hyphens; in Arabic, its
    parts were reordered."""
    from django.template import Context, Template

    rendered = Template("{% load tremplin %}{{ text|references_kept_whole }}").render(
        Context({"text": "<b>Déjà dans l'appel</b> (SMA-26-0009), pas ABC-1-2 ni ABCDEF-26-0009"})
    )
    assert rendered == (
        "&lt;b&gt;Déjà dans l&#x27;appel&lt;/b&gt; "
        '(<bdi dir="ltr" class="text-nowrap">SMA-26-0009</bdi>), pas ABC-1-2 ni ABCDEF-26-0009'
    )

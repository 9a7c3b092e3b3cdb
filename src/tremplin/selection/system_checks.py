"""System checks of the letters' setup."""

import ctypes.util

from django.core.checks import Warning, register

HARFBUZZ_SUBSET = "harfbuzz-subset"


def find_library(name: str) -> str | None:
    return ctypes.util.find_library(name)


@register()
def check_harfbuzz_subset(app_configs, **kwargs):
    """WeasyPrint falls back to fontTools to subset fonts without HarfBuzz's subsetter, and
    every letter then takes 6 to 9 times longer."""
    if find_library(HARFBUZZ_SUBSET):
        return []
    return [
        Warning(
            "libharfbuzz-subset is missing: PDF letters render 6 to 9 times slower.",
            hint="Install it: apt-get install libharfbuzz-subset0 (Debian, Ubuntu).",
            id="tremplin.W003",
        )
    ]

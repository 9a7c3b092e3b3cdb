"""The `tremplin` console command: the project's manage.py."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tremplin.settings")
    from django.conf import settings
    from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        try:
            execute_from_command_line(sys.argv)
        except AppRegistryNotReady:
            # Django skips its set-up when the settings do not load, and a command that
            # needs the models (makemigrations) then fails on that instead: say why.
            settings.INSTALLED_APPS  # noqa: B018 (raises the settings' own error)
            raise
    except ImproperlyConfigured as exc:
        # A configuration mistake deserves one clear line, not a traceback.
        sys.stderr.write(f"tremplin: configuration error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelectionConfig(AppConfig):
    name = "tremplin.selection"
    label = "selection"
    verbose_name = _("Selection")

    def ready(self):
        from tremplin.core import private_files
        from tremplin.selection import system_checks  # noqa: F401  (registers the checks)
        from tremplin.selection.models import Letter

        # A letter's PDF written by a worker killed before its chunk committed.
        private_files.register("private/letters", private_files.named_by(Letter.file.field))

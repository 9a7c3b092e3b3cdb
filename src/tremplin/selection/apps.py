from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelectionConfig(AppConfig):
    name = "tremplin.selection"
    label = "selection"
    verbose_name = _("Selection")

    def ready(self):
        from tremplin.selection import system_checks  # noqa: F401  (registers the checks)

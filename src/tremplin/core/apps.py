from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tremplin.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from tremplin.core import checks  # noqa: F401  (registers the system checks)
        from tremplin.core.ordering import register_on_sqlite

        connection_created.connect(register_on_sqlite, dispatch_uid="tremplin_unaccented")

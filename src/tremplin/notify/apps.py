from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "tremplin.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from tremplin.core import private_files
        from tremplin.notify.services import message_attachments_named

        # An email's copies, written once its row is in (notify.services.message_enqueue).
        private_files.register("private/outbox", message_attachments_named)

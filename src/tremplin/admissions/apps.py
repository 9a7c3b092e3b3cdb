from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdmissionsConfig(AppConfig):
    name = "tremplin.admissions"
    label = "admissions"
    verbose_name = _("Admissions")

    def ready(self):
        from tremplin.admissions.held_uploads import HELD_DIR
        from tremplin.admissions.imported_references import reference_sent
        from tremplin.admissions.models import Document, ExportJob, ImportJob
        from tremplin.core import private_files
        from tremplin.notify.signals import message_sent

        message_sent.connect(reference_sent, dispatch_uid="admissions.reference_sent")

        # What a process killed before its commit may leave there (core.private_files).
        private_files.register(
            "private/applications", private_files.named_by(Document.file.field), recursive=True
        )
        private_files.register("private/imports", private_files.named_by(ImportJob.file.field))
        private_files.register("private/exports", private_files.named_by(ExportJob.file.field))
        private_files.register(
            "private/import-reports", private_files.named_by(ImportJob.report_file.field)
        )
        # Documents held while a form sent back is corrected: no row ever names them, so
        # each goes once it is a day old (``held_uploads``).
        private_files.register(HELD_DIR, lambda names: set(), recursive=True)

import logging

from tremplin.admissions.codes import access_requests_forget, access_requests_resume
from tremplin.admissions.export_tasks import export_files_forget, export_jobs_resume
from tremplin.admissions.import_tasks import import_files_forget, import_jobs_resume
from tremplin.admissions.recheck_tasks import eligibility_rechecks_resume
from tremplin.admissions.search_names import search_names_backfill
from tremplin.core.management.sweep import SweepCommand
from tremplin.selection.letters import letter_batches_resume
from tremplin.selection.marks_import import marks_stashes_forget
from tremplin.selection.ranking import ranking_runs_resume

logger = logging.getLogger(__name__)


class Command(SweepCommand):
    help = (
        "Start again the work whose worker died mid-way: imports, exports and batches of "
        "letters without progress for ten minutes, ranking runs and re-checks of eligibility still "
        "running after thirty (a re-check whose transaction is alive is left to it), "
        "applicants' requests for a code not looked at after a minute. Also "
        "deletes the files of marks checked by a dry run and never confirmed, once their "
        "hour is over, and the spreadsheets of applications whose dry run was never "
        "imported, a day after it, the exported lists a day after they were written, and the "
        "requests for a code after a day. Fills the "
        "search key of applications written without one (by the previous release, during "
        "a rolling deploy). Run it from cron every few minutes, or as a sidecar with --loop."
    )
    interval = 120.0

    def sweep(self, *, verbose: bool, **options) -> None:
        imports, letters = import_jobs_resume(), letter_batches_resume()
        runs, stashes = ranking_runs_resume(), marks_stashes_forget()
        rechecks, exports = eligibility_rechecks_resume(), export_jobs_resume()
        spreadsheets, exported = import_files_forget(), export_files_forget()
        requests, codes = access_requests_forget(), access_requests_resume()
        try:
            keys = search_names_backfill()
        except Exception:  # the keys can wait for the next run; the --loop must go on
            logger.exception("The search keys of applications could not be filled")
            keys = 0
        if imports or letters or runs or rechecks or exports or verbose:
            self.stdout.write(
                f"Resumed: {imports} imports, {letters} letter batches, {runs} ranking runs, "
                f"{rechecks} eligibility re-checks, {exports} exports."
            )
        if codes or verbose:
            self.stdout.write(f"Sent {codes} codes whose request had been left waiting.")
        if requests or verbose:
            self.stdout.write(f"Deleted {requests} requests for a code older than a day.")
        if stashes or verbose:
            self.stdout.write(f"Deleted {stashes} unconfirmed files of marks.")
        if spreadsheets or verbose:
            self.stdout.write(f"Deleted {spreadsheets} import spreadsheets no longer needed.")
        if exported or verbose:
            self.stdout.write(f"Deleted {exported} exported files kept for a day.")
        if keys or verbose:
            self.stdout.write(f"Filled the search key of {keys} applications written without one.")

"""What each action of the audit log is called, for the people who read it (the application's
history, the school's audit log): the codes stay as recorded, the labels follow the reader's
language. A code without a label is shown as it is."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "tremplin.applications.submitted": _("Application submitted"),
    "tremplin.applications.imported": _("Applications imported"),
    "tremplin.applications.import_checked": _("Import file checked (dry run)"),
    "tremplin.applications.updated_by_applicant": _("Corrected from the applicant space"),
    "tremplin.applications.document_given": _("Document sent from the applicant space"),
    "tremplin.applications.document_viewed": _("Document viewed"),
    "tremplin.applications.code_sent": _("One-time code sent"),
    "tremplin.applications.withdrawn": _("Application withdrawn"),
    "tremplin.applications.deletion_requested": _("Deletion of data requested"),
    "tremplin.applications.erased": _("Personal data erased"),
    "tremplin.applications.exported": _("Applications exported"),
    "tremplin.applications.export_downloaded": _("Export of applications downloaded"),
    "tremplin.applications.references_sent": _("References sent to imported applicants"),
    "tremplin.applications.identity_viewed": _("CIN shown in full"),
    "tremplin.applications.identity_searched": _("Found by a search of the full CIN"),
    "tremplin.applications.eligibility_rechecked": _("Eligibility checked again"),
    "tremplin.applications.eligibility_overridden": _("Eligibility decided by staff"),
    "tremplin.applications.contact_corrected": _("Contact details corrected by staff"),
    "tremplin.applications.eligibility_rules_restored": _("Eligibility given back to the rules"),
    "tremplin.auth.recovery_code_used": _("Recovery code used"),
    "tremplin.auth.recovery_codes_regenerated": _("Recovery codes renewed"),
    "tremplin.intakes.created": _("Call created"),
    "tremplin.intakes.changed": _("Call changed"),
    "tremplin.intakes.status_changed": _("Call opened or closed"),
    "tremplin.intakes.eligibility_rechecked": _("Eligibility of the call checked again"),
    "tremplin.letters.batch_started": _("Letters prepared"),
    "tremplin.outbox.retried": _("Messages sent again"),
    "tremplin.outbox.tried_now": _("Message tried again without waiting"),
    "tremplin.privacy.notice_published": _("Privacy notice published"),
    "tremplin.school.profile_changed": _("School profile changed"),
    "tremplin.team.member_added": _("Team member added"),
    "tremplin.team.member_revoked": _("Team member removed"),
    "tremplin.selection.scheme.changed": _("Selection rules changed"),
    "tremplin.selection.scheme.seed_drawn": _("Tie-break draw made"),
    "tremplin.selection.rubric.changed": _("Interview grid changed"),
    "tremplin.selection.test_session.created": _("Test session created"),
    "tremplin.selection.test_session.changed": _("Test session changed"),
    "tremplin.selection.test_session.deleted": _("Test session deleted"),
    "tremplin.selection.test.assigned": _("Assigned to a test session"),
    "tremplin.selection.test.moved": _("Moved to another test session"),
    "tremplin.selection.test.convened": _("Convened to the test"),
    "tremplin.selection.test.attendance": _("Test attendance recorded"),
    "tremplin.selection.marks.imported": _("Test marks imported"),
    "tremplin.selection.mark.changed": _("Mark changed"),
    "tremplin.selection.panel.created": _("Interview panel created"),
    "tremplin.selection.panel.changed": _("Interview panel changed"),
    "tremplin.selection.panel.deleted": _("Interview panel deleted"),
    "tremplin.selection.slots.generated": _("Interview slots generated"),
    "tremplin.selection.slots.deleted": _("Interview slots deleted"),
    "tremplin.selection.interview.assigned": _("Given an interview slot"),
    "tremplin.selection.interview.unassigned": _("Interview slot withdrawn"),
    "tremplin.selection.interview.convened": _("Convened to the interview"),
    "tremplin.selection.interview.attendance": _("Interview attendance recorded"),
    "tremplin.selection.interview.marks_recomputed": _("Interview marks recomputed"),
    "tremplin.selection.sheet.submitted": _("Juror's sheet submitted"),
    "tremplin.selection.sheet.amended": _("Juror's sheet amended"),
    "tremplin.selection.conflict.declared": _("Conflict of interest declared"),
    "tremplin.selection.conflict.removed": _("Conflict of interest withdrawn"),
    "tremplin.selection.ranking.started": _("Ranking computed"),
    "tremplin.selection.ranking.published": _("Ranking published"),
    "tremplin.selection.ranking.exported": _("Ranking exported"),
    "tremplin.selection.ranking.export_downloaded": _("Export of a ranking downloaded"),
    "tremplin.selection.offer_made": _("Seat offered"),
    "tremplin.selection.offer_accepted": _("Seat accepted"),
    "tremplin.selection.offer_declined": _("Seat declined"),
    "tremplin.selection.offer_cancelled": _("Offer cancelled"),
    "tremplin.selection.offer_expired": _("Offer expired"),
    "tremplin.selection.offer_withdrawn": _("Offer withdrawn by the school"),
}

# Not audit events: lines of an application's history read from their own tables
# (``admissions.history._milestones``).
HISTORY_LABELS = {
    "tremplin.letters.prepared": _("Letter prepared"),
    "tremplin.training.enrolled": _("Enrolled in the cohort"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code) or HISTORY_LABELS.get(code, code))

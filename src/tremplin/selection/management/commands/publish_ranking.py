"""`tremplin publish_ranking`: a named person publishes a finished run, with a comment."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope, scopes_disabled

from tremplin.admissions.management.commands._intake import find_intake
from tremplin.selection.management.commands.rank import find_user
from tremplin.selection.models import RankingRun
from tremplin.selection.ranking import ranking_publish


class Command(BaseCommand):
    help = (
        "Publish ranking run N of an intake in the name of a user, with a comment: opens the "
        "offers and sends every decision. A call publishes one run only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--intake", required=True, help="The intake's slug.")
        parser.add_argument("--school", help="The school's slug, when several have that intake.")
        parser.add_argument("--run", required=True, type=int, help="The run's number.")
        parser.add_argument("--by", required=True, help="Username of the person who publishes.")
        parser.add_argument("--comment", required=True, help="Why this run is published.")

    def handle(self, *args, intake, school, run, by, comment, **options):
        with scopes_disabled():
            target = find_intake(intake, school)
            user = find_user(by)
        with scope(school=target.school):
            found = RankingRun.objects.filter(intake=target, number=run).first()
            if found is None:
                raise CommandError(f"No run #{run} of {target.slug}.")
            try:
                published = ranking_publish(run=found, actor=user, comment=comment)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        counts = published.summary.get("counts", {})
        self.stdout.write(
            f"Run #{published.number} of {target.slug} published by {user.username}: "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
        )

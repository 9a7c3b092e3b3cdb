from django.core.management.base import BaseCommand
from django.db import transaction

from tremplin.schools.geography import geography_load
from tremplin.schools.models import Commune, Province, Region


class Command(BaseCommand):
    help = "Load or refresh Morocco's regions, provinces and communes (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            communes = geography_load(Region, Province, Commune)
        self.stdout.write(
            f"{Region.objects.count()} regions, {Province.objects.count()} provinces, "
            f"{communes} communes loaded."
        )

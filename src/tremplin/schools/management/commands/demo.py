from django.core.management.base import BaseCommand

from tremplin.schools.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load (or refresh) the École Numérique de Smara demo. Safe to run again."

    def handle(self, *args, **options):
        school = demo_load()
        self.stdout.write(self.style.SUCCESS(f"Demo ready: {school.name} ({school.slug})."))
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.username:<14} {account.role}")

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reviewapp.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print where the app runs and the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")
        parser.add_argument("--no-logins", dest="logins", action="store_false")

    def handle(self, *args: object, **options: Any) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Reviewapp is starting at {options['url']}"))
        if options["logins"]:
            self.stdout.write(f"Demo logins (password '{DEMO_PASSWORD}' for all):")
            for username, _email, roles in DEMO_USERS:
                self.stdout.write(f"  {username:<10} {', '.join(roles)}")
        self.stdout.write(f"API docs: {options['url']}api/docs/")
        self.stdout.write("")

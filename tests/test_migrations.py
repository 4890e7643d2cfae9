from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_there_are_no_model_changes_without_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"Missing migrations:\n{out.getvalue()}\n(exit {exc.code})")

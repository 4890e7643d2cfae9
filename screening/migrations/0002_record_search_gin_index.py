from django.db import migrations


def create_index(apps, schema_editor):
    # Full-text search is a PostgreSQL feature; SQLite falls back to substring search.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS record_search_gin "
            "ON screening_record USING gin (search_vector)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS record_search_gin")


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]

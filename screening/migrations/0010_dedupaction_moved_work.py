"""DedupAction.moved (what followed the paper to the record kept), and a study of its own for
every report already included at full text without a study link (docs/screening.md)."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef

import screening.models


def give_included_reports_a_study(apps, schema_editor):
    Record = apps.get_model("screening", "Record")
    ScreeningItem = apps.get_model("screening", "ScreeningItem")
    Study = apps.get_model("screening", "Study")

    def included(stage):
        return Exists(
            ScreeningItem.objects.filter(
                record=OuterRef("pk"), stage=stage, final_verdict="include"
            )
        )

    reports = Record.objects.filter(
        included("ta"), included("ft"), study__isnull=True, duplicate_of__isnull=True
    )
    for record in reports.order_by("id").iterator():
        author = (record.authors or [""])[0] if record.authors else ""
        surname = author.split(",")[0].strip() if "," in author else (author.split() or [""])[0]
        base = " ".join(p for p in (surname, str(record.year or "")) if p)[:150]
        base = base or f"Record {record.pk}"
        label = base
        if Study.objects.filter(review_id=record.review_id, label=label).exists():
            label = f"{base} (record {record.pk})"
        study = Study.objects.create(review_id=record.review_id, label=label)
        Record.objects.filter(pk=record.pk).update(study=study)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0009_possible_duplicates"),
    ]

    operations = [
        migrations.AddField(
            model_name="dedupaction",
            name="moved",
            field=models.JSONField(blank=True, default=screening.models._empty_list),
        ),
        migrations.AddField(
            model_name="historicaldedupaction",
            name="moved",
            field=models.JSONField(blank=True, default=screening.models._empty_list),
        ),
        migrations.RunPython(give_included_reports_a_study, migrations.RunPython.noop),
    ]

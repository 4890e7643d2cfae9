"""Apply the identifier rule of screening.references.identifiers to RIS records imported before it.

The old RIS reader took a PMID from the first of AN, M1, C7, U1, N1 that held a bare number, so
Scopus and Web of Science article numbers (C7) became PubMed IDs. It removed AN from ``raw``
only when it took the PMID from AN, so the tag each PMID came from can still be told:

- AN still in ``raw``: the PMID came from M1/C7/U1/N1; it is kept only if that tag labelled
  it ("PMID: 123"), else it is dropped (the number is still in ``raw``);
- AN gone from ``raw``: the PMID is the AN; it stays a PMID when the record's DB/DP tags name
  MEDLINE/PubMed, else it moves to ``accession_numbers`` under that database's key, or
  "unknown".

Duplicate groups already formed are left as they are: splitting them is the team's decision.
"""

from typing import Any

from django.db import migrations

from screening.references.identifiers import labelled_pmid, record_database

FREE_TAGS = ("M1", "C7", "U1", "N1")


def _values(raw: dict[str, Any], tag: str) -> list[str]:
    value = raw.get(tag)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def forwards(apps: Any, schema_editor: Any) -> None:
    Record = apps.get_model("screening", "Record")
    changed = []
    records = Record.objects.filter(import_batch__file_format="ris").exclude(pmid="")
    for record in records.iterator(chunk_size=2000):
        raw = record.raw or {}
        if "AN" in raw:
            free = [v for tag in FREE_TAGS for v in _values(raw, tag)]
            if not any(labelled_pmid(v) == record.pmid for v in free):
                record.pmid = ""
                changed.append(record)
            continue
        key = record_database(_values(raw, "DB"), _values(raw, "DP"))
        if key == "pubmed":
            continue
        numbers = dict(record.accession_numbers or {})
        numbers.setdefault(key or "unknown", record.pmid)
        record.accession_numbers = numbers
        record.pmid = ""
        changed.append(record)
    Record.objects.bulk_update(changed, ["pmid", "accession_numbers"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("screening", "0005_record_issn_accession_numbers")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

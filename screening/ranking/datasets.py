"""Read a labelled review: a reference export and a CSV of labels keyed by the records' IDs."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from screening.references.parsers import parse_references

from .features import record_text


@dataclass(frozen=True)
class LabelledReview:
    ids: list[str]
    texts: list[str]
    labels: np.ndarray


def load_labelled(records_path: Path, labels_path: Path) -> LabelledReview:
    """Records of the export that have a label, in the export's order.

    The labels file has `openalex_id` (matching the export's `ID` field) and `label_included`
    (1 or 0). Raises ValueError naming what does not match.
    """
    with labels_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"openalex_id", "label_included"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{labels_path.name} has no column {', '.join(sorted(missing))}")
        labels: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            value = (row["label_included"] or "").strip()
            if value not in ("0", "1"):
                raise ValueError(f"{labels_path.name} line {line}: label_included is '{value}'")
            labels[row["openalex_id"].strip()] = int(value)
    parsed = parse_references(records_path.read_bytes(), records_path.name)
    ids, texts, y = [], [], []
    for record in parsed.records:
        key = str((record.raw or {}).get("ID", "")).strip()
        if key in labels:
            ids.append(key)
            texts.append(record_text(record.title, record.abstract, record.keywords))
            y.append(labels[key])
    if not ids:
        raise ValueError(f"no record of {records_path.name} has an ID listed in {labels_path.name}")
    return LabelledReview(ids=ids, texts=texts, labels=np.asarray(y, dtype=np.int64))

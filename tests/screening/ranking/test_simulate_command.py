"""`manage.py screening_simulate` on a small labelled review written for the test."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from tests.screening.ranking.test_model_and_simulation import corpus


@pytest.fixture
def labelled(tmp_path):
    texts, labels = corpus()
    ris, rows = [], [["openalex_id", "doi", "label_included"]]
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        ris += ["TY  - JOUR", f"ID  - W{i}", f"TI  - Record {i}", f"AB  - {text}", "ER  - ", ""]
        rows.append([f"W{i}", "", str(int(label))])
    (tmp_path / "review.ris").write_text("\n".join(ris), encoding="utf-8")
    with (tmp_path / "labels.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return tmp_path, labels


def test_it_prints_the_figures_and_writes_the_order(labelled):
    folder, labels = labelled
    out = io.StringIO()
    call_command(
        "screening_simulate",
        str(folder / "review.ris"),
        str(folder / "labels.csv"),
        "--seed",
        "42",
        "--output",
        str(folder / "order.csv"),
        stdout=out,
    )
    text = out.getvalue()
    assert f"{len(labels)} records, {int(labels.sum())} included" in text
    for line in ("records screened to 95% recall:", "records screened to 100% recall:", "WSS@95:"):
        assert line in text
    assert "recall after 10% of the records:" in text
    with (folder / "order.csv").open() as handle:
        order = list(csv.DictReader(handle))
    assert len(order) == len(labels) and len({row["openalex_id"] for row in order}) == len(labels)
    assert [row["prior"] for row in order[:3]] == ["1", "1", "0"]
    assert [row["label_included"] for row in order[:2]] == ["1", "0"]


def test_it_names_what_is_wrong_with_the_inputs(labelled, tmp_path):
    folder, _ = labelled
    bad = tmp_path / "bad.csv"
    bad.write_text("id,label\nW1,1\n")
    with pytest.raises(CommandError, match="has no column"):
        call_command("screening_simulate", str(folder / "review.ris"), str(bad))
    with pytest.raises(CommandError, match="is not a file"):
        call_command("screening_simulate", str(folder / "missing.ris"), str(bad))
    with pytest.raises(CommandError, match="at least one included"):
        call_command(
            "screening_simulate",
            str(folder / "review.ris"),
            str(folder / "labels.csv"),
            "--prior-included",
            "0",
        )

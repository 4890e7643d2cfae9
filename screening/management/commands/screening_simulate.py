"""Replay a fully labelled review through the app's ranking, one decision at a time.

    python manage.py screening_simulate DATASET.ris LABELS.csv --seed 42 \
        --prior-included 1 --prior-excluded 1 [--output order.csv]

Uses exactly the code the app's Celery training runs (`screening.ranking`: the same features,
model and retraining schedule, time counted in decisions). Prints the records screened to reach
95% and 100% recall, WSS@95 and WSS@100 (ASReview's definition, on the whole order with the
prior records first, as ASReview LAB's `simulate` reports; WSS@95 after the priors too, as
ASReview Insights counts it) and the recall after 10% of the records. The priors are drawn as
`asreview simulate --prior-seed SEED` draws them. `--output` writes the order records were
shown in (the priors first).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from screening.ranking import features
from screening.ranking.datasets import load_labelled
from screening.ranking.simulate import draw_priors, simulate


class Command(BaseCommand):
    help = "Simulate prioritised screening of a labelled review with the app's ranking."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", type=Path, help="the records (RIS with ID fields)")
        parser.add_argument("labels", type=Path, help="CSV: openalex_id, label_included")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--prior-included", type=int, default=1)
        parser.add_argument("--prior-excluded", type=int, default=1)
        parser.add_argument("--output", type=Path, help="write the order shown as CSV")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("dataset", "labels"):
            if not options[name].is_file():
                raise CommandError(f"{options[name]} is not a file.")
        if options["prior_included"] < 1 or options["prior_excluded"] < 1:
            raise CommandError("The model needs at least one included and one excluded prior.")
        try:
            review = load_labelled(options["dataset"], options["labels"])
            priors = draw_priors(
                review.labels,
                seed=options["seed"],
                included=options["prior_included"],
                excluded=options["prior_excluded"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        X = features.tfidf(features.term_frequencies(review.texts))
        result = simulate(X, review.labels, priors, seed=options["seed"])
        summary = result.summary(review.labels)
        n_prior = summary["prior"]
        self.stdout.write(
            f"{summary['records']} records, {summary['relevant']} included; "
            f"{n_prior} prior records (seed {options['seed']}); {summary['trainings']} trainings"
        )
        self.stdout.write(f"records screened to 95% recall: {summary['screened_to_95']}")
        self.stdout.write(f"records screened to 100% recall: {summary['screened_to_100']}")
        self.stdout.write(f"WSS@95: {summary['wss_95']:.3f}")
        self.stdout.write(f"WSS@100: {summary['wss_100']:.3f}")
        self.stdout.write(f"recall after 10% of the records: {summary['recall_at_10pct']:.3f}")
        self.stdout.write(
            f"WSS@95 after the {n_prior} prior records: {summary['wss_95_after_priors']:.3f}"
        )
        self.stdout.write(
            "(WSS@r = (N - n_r) / N - (1 - r), ASReview's definition; counted on the whole "
            "order, the priors first, as ASReview LAB's simulate reports it)"
        )
        if options["output"]:
            with options["output"].open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["position", "openalex_id", "label_included", "prior"])
                for position, row in enumerate(result.order.tolist(), start=1):
                    writer.writerow(
                        [
                            position,
                            review.ids[row],
                            int(review.labels[row]),
                            int(position <= n_prior),
                        ]
                    )
            self.stdout.write(f"order written to {options['output']}")

"""Plausibility warnings for an extraction: numbers that contradict each other or are implausible.

Warnings never refuse a save (errors in extraction.validation do); they point the extractor at a
number to check against the paper. Each warning is keyed like an error (an answer's field key,
`key.<row>.<column>` for a table cell, `outcomes.<row>.<measure>` for outcome data) so the entry
page can show it under its input.

Pure: the inputs are the form's fields, the answers, the arms, the outcome rows (in the shape of
`selectors.outcome_row_dict`) and the review's outcomes; nothing is read from the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# No trial has randomised this many people; a larger N is almost surely a typo.
MAX_PLAUSIBLE_N = 2_000_000
# Arms adding up to less than this share of N randomised is more than attrition explains.
MIN_SHARE_OF_N = 0.5

_SAMPLE_SIZE = re.compile(r"randomi[sz]|sample[\s_-]*size|participants", re.IGNORECASE)
# Counts of a subset of the participants, not the study's size.
_SUBSET = re.compile(
    r"lost|withdr|drop|exclu|attrit|analy[sz]|complet|died|death|event", re.IGNORECASE
)
_PERCENT = re.compile(r"percent|%", re.IGNORECASE)
_NUMERIC = ("integer", "decimal", "derived")


class FieldLike(Protocol):
    key: str
    label: str
    field_type: str
    unit: str
    columns: Any
    removed_in_version: int | None


class OutcomeLike(Protocol):
    name: str
    outcome_type: str
    scale_min: float | None
    scale_max: float | None


@dataclass(frozen=True)
class Finding:
    key: str
    message: str


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}"


def sample_size_field(fields: Sequence[FieldLike]) -> FieldLike | None:
    """The study-level "N randomised" field: an integer field whose key or label says
    randomised, sample size or participants (randomised preferred), not a subset count."""
    candidates = []
    for f in fields:
        if f.field_type != "integer" or f.removed_in_version is not None:
            continue
        text = f"{f.key.replace('_', ' ')} {f.label}"
        if _SAMPLE_SIZE.search(text) and not _SUBSET.search(text):
            candidates.append(f)
    candidates.sort(key=lambda f: 0 if re.search(r"randomi[sz]", f"{f.key} {f.label}", re.I) else 1)
    return candidates[0] if candidates else None


def _is_percent(unit: Any, label: Any) -> bool:
    return str(unit or "").strip() == "%" or bool(_PERCENT.search(str(label or "")))


def _percent_warnings(fields: Sequence[FieldLike], answers: Mapping[str, Any]) -> list[Finding]:
    out: list[Finding] = []

    def check(key: str, label: str, value: Any) -> None:
        number = _number(value)
        if number is not None and not 0 <= number <= 100:
            out.append(Finding(key, f"{label}: {_fmt(number)}% is not a percentage (0 to 100)."))

    for f in fields:
        if f.removed_in_version is not None:
            continue
        value = answers.get(f.key)
        if f.field_type in _NUMERIC and _is_percent(f.unit, f.label):
            check(f.key, f.label, value)
        elif f.field_type == "table" and isinstance(value, list):
            for column in f.columns or []:
                if column.get("type") not in _NUMERIC or not _is_percent(
                    column.get("unit"), column.get("label")
                ):
                    continue
                for i, row in enumerate(value):
                    if isinstance(row, dict):
                        check(
                            f"{f.key}.{i}.{column['key']}",
                            f"{f.label}, row {i + 1}, {column.get('label') or column['key']}",
                            row.get(column["key"]),
                        )
    return out


def _arm_count(row: Mapping[str, Any], outcome: OutcomeLike) -> float | None:
    return _number(row.get("total" if outcome.outcome_type == "dichotomous" else "n"))


def _sample_size_warnings(
    fields: Sequence[FieldLike],
    answers: Mapping[str, Any],
    arms: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    outcomes: Mapping[int, OutcomeLike],
) -> list[Finding]:
    field = sample_size_field(fields)
    if field is None:
        return []
    total = _number(answers.get(field.key))
    if total is None:
        return []
    out: list[Finding] = []
    if total > MAX_PLAUSIBLE_N:
        out.append(
            Finding(
                field.key,
                f"{field.label}: {_fmt(total)} is more people than any trial has randomised; "
                "check for a typo.",
            )
        )
    if total <= 0:
        return out
    # Arm counts per outcome and timepoint; a group is compared with N once every arm has one.
    groups: dict[tuple[int, str], dict[str, float]] = {}
    names: dict[tuple[int, str], str] = {}
    for row in rows:
        outcome = outcomes.get(row.get("outcome"))  # type: ignore[arg-type]  # a missing id gives None
        arm = str(row.get("arm") or "")
        if outcome is None or not arm:
            continue
        count = _arm_count(row, outcome)
        if count is None:
            continue
        timepoint = str(row.get("timepoint") or "")
        group = (int(row["outcome"]), timepoint.lower())
        groups.setdefault(group, {})[arm.lower()] = count
        names[group] = f"{outcome.name}, {timepoint}" if timepoint else outcome.name
    arm_count = len({str(a.get("label") or "").lower() for a in arms if a.get("label")})
    for group, counts in groups.items():
        summed = sum(counts.values())
        if summed > total:
            out.append(
                Finding(
                    field.key,
                    f"{field.label} is {_fmt(total)}, but the arms add up to {_fmt(summed)} "
                    f"at {names[group]}.",
                )
            )
        elif len(counts) >= max(arm_count, 2) and summed < MIN_SHARE_OF_N * total:
            out.append(
                Finding(
                    field.key,
                    f"{field.label} is {_fmt(total)}, but the arms add up to only {_fmt(summed)} "
                    f"at {names[group]} (less than half).",
                )
            )
    return out


def max_sd(mean: float, low: float, high: float, n: float | None) -> float:
    """The largest sample SD a variable confined to [low, high] can have with this mean:
    sqrt((mean - low)(high - mean) n / (n - 1)); without n, the loosest bound (n = 2)."""
    factor = n / (n - 1) if n is not None and n >= 2 else 2.0
    return math.sqrt(max(mean - low, 0.0) * max(high - mean, 0.0) * factor)


def _scale_warnings(
    rows: Sequence[Mapping[str, Any]], outcomes: Mapping[int, OutcomeLike]
) -> list[Finding]:
    out: list[Finding] = []
    for i, row in enumerate(rows):
        outcome = outcomes.get(row.get("outcome"))  # type: ignore[arg-type]  # a missing id gives None
        if outcome is None or outcome.outcome_type not in ("continuous", "mean"):
            continue
        low, high = outcome.scale_min, outcome.scale_max
        mean, sd, n = _number(row.get("mean")), _number(row.get("sd")), _number(row.get("n"))
        where = f"{outcome.name}, {row.get('timepoint') or '?'}, {row.get('arm') or '?'}"
        if n is not None and n > MAX_PLAUSIBLE_N:
            out.append(Finding(f"outcomes.{i}.n", f"{where}: n = {_fmt(n)} is implausibly large."))
        if low is None or high is None or mean is None:
            continue
        scale = f"the scale runs from {_fmt(low)} to {_fmt(high)}"
        if not low <= mean <= high:
            out.append(
                Finding(f"outcomes.{i}.mean", f"{where}: mean {_fmt(mean)} is outside; {scale}.")
            )
            continue
        if sd is not None:
            bound = max_sd(mean, low, high, n)
            if sd > bound * (1 + 1e-9):
                out.append(
                    Finding(
                        f"outcomes.{i}.sd",
                        f"{where}: SD {_fmt(sd)} is larger than {scale} allows for a mean of "
                        f"{_fmt(mean)} (at most {_fmt(bound)}); was an SE or a variance "
                        "entered, or is the scale different?",
                    )
                )
    return out


def check(
    *,
    fields: Sequence[FieldLike],
    answers: Mapping[str, Any],
    arms: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    outcomes: Mapping[int, OutcomeLike],
) -> list[Finding]:
    """Every plausibility warning for one extraction, in the order of the page."""
    return [
        *_percent_warnings(fields, answers),
        *_sample_size_warnings(fields, answers, arms, rows, outcomes),
        *_scale_warnings(rows, outcomes),
    ]


def by_key(warnings: Sequence[Finding]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for w in warnings:
        out.setdefault(w.key, []).append(w.message)
    return out

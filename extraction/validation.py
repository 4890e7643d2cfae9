"""Cleaning and checking answers and outcome data; errors are keyed by the input they concern.

Answer keys are field keys; a table cell is `key.<row>.<column>`; outcome data is
`outcomes.<row>.<measure>`. Every check runs before anything is written, so a save either
stores all of it or none of it.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from analysis import stats

YES_NO_UNCLEAR = ["yes", "no", "unclear"]
ARM_ROLES = ["intervention", "control", "other"]
MAX_TABLE_ROWS = 200
MAX_ARMS = 20
MAX_OUTCOME_ROWS = 2000
TEXT_LIMITS = {"short_text": 500, "long_text": 20000}
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100


@dataclass
class Errors:
    by_key: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, message: str) -> None:
        self.by_key.setdefault(key, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_key)


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, dict)):
        return not value
    return False


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    text = str(value).strip().replace(",", ".") if isinstance(value, str) else value
    try:
        number = Decimal(str(text))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError from exc
    if not number.is_finite():
        raise ValueError
    return number


def clean_value(spec: Mapping[str, Any], value: Any, key: str, errors: Errors) -> Any:
    """One answer by its field (or column) spec: {"type", "choices", "min", "max", "label"}.
    Returns the stored form (or None when blank or wrong, with an error added)."""
    kind = spec["type"]
    label = spec.get("label") or key
    if is_blank(value):
        return None
    if kind in TEXT_LIMITS:
        text = str(value).strip()
        if len(text) > TEXT_LIMITS[kind]:
            errors.add(key, f"{label}: at most {TEXT_LIMITS[kind]} characters ({len(text)} given).")
            return None
        return text
    if kind in ("integer", "decimal"):
        try:
            number = _number(value)
        except ValueError:
            errors.add(key, f"{label}: '{value}' is not a number.")
            return None
        if kind == "integer" and number != number.to_integral_value():
            errors.add(key, f"{label}: '{value}' is not a whole number.")
            return None
        low, high = spec.get("min"), spec.get("max")
        if low is not None and number < Decimal(str(low)):
            errors.add(
                key, f"{label}: {number} is below the minimum {Decimal(str(low)).normalize()}."
            )
            return None
        if high is not None and number > Decimal(str(high)):
            errors.add(
                key, f"{label}: {number} is above the maximum {Decimal(str(high)).normalize()}."
            )
            return None
        return int(number) if kind == "integer" else float(number)
    if kind == "date":
        text = str(value).strip()
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            errors.add(key, f"{label}: '{text}' is not a real date (write it as YYYY-MM-DD).")
            return None
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            errors.add(key, f"{label}: {text} is not a plausible date for a study.")
            return None
        return day.isoformat()
    if kind == "single_choice":
        choices = spec.get("choices") or []
        if str(value) not in choices:
            errors.add(key, f"{label}: '{value}' is not one of the choices ({', '.join(choices)}).")
            return None
        return str(value)
    if kind == "multiple_choice":
        items = value if isinstance(value, list) else [value]
        choices = spec.get("choices") or []
        wrong = [str(i) for i in items if str(i) not in choices]
        if wrong:
            errors.add(key, f"{label}: {', '.join(wrong)} not among the choices.")
            return None
        return [c for c in choices if c in {str(i) for i in items}]
    if kind == "yes_no_unclear":
        text = str(value).strip().lower()
        if text not in YES_NO_UNCLEAR:
            errors.add(key, f"{label}: answer yes, no or unclear ('{value}' given).")
            return None
        return text
    raise ValueError(f"unknown field type {kind}")


def clean_table(
    spec: Mapping[str, Any], value: Any, key: str, errors: Errors, *, complete: bool
) -> list[dict[str, Any]] | None:
    if is_blank(value):
        return None
    label = spec.get("label") or key
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        errors.add(key, f"{label}: a table is a list of rows.")
        return None
    if len(value) > MAX_TABLE_ROWS:
        errors.add(key, f"{label}: at most {MAX_TABLE_ROWS} rows.")
        return None
    columns = spec.get("columns") or []
    known = {c["key"] for c in columns}
    rows: list[dict[str, Any]] = []
    for i, row in enumerate(value):
        unknown = set(row) - known
        if unknown:
            errors.add(key, f"{label}, row {i + 1}: no column {', '.join(sorted(unknown))}.")
            continue
        if all(is_blank(v) for v in row.values()):
            continue  # an empty row left in the page is not data
        cleaned: dict[str, Any] = {}
        for column in columns:
            # Keyed by the row as submitted, so the page can put the message next to its cell.
            cell_key = f"{key}.{i}.{column['key']}"
            cell = clean_value(
                {**column, "label": f"{label}, row {i + 1}, {column['label']}"},
                row.get(column["key"]),
                cell_key,
                errors,
            )
            if (
                cell is None
                and column.get("required")
                and complete
                and is_blank(row.get(column["key"]))
            ):
                errors.add(cell_key, f"{label}, row {i + 1}: {column['label']} is required.")
            if cell is not None:
                cleaned[column["key"]] = cell
        rows.append(cleaned)
    return rows or None


def clean_arms(value: Any, errors: Errors) -> list[dict[str, str]]:
    if is_blank(value):
        return []
    if not isinstance(value, list):
        errors.add("arms", "Arms are a list of {label, role}.")
        return []
    arms: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, arm in enumerate(value):
        if not isinstance(arm, dict):
            errors.add(f"arms.{i}.label", f"Arm {i + 1}: give a label and a role.")
            continue
        label = " ".join(str(arm.get("label") or "").split())
        role = str(arm.get("role") or "other").strip().lower()
        if not label:
            if any(not is_blank(v) for k, v in arm.items() if k != "role"):
                errors.add(f"arms.{i}.label", f"Arm {i + 1}: give it a name.")
            continue
        if label.lower() in seen:
            errors.add(f"arms.{i}.label", f"Arm '{label}' is listed twice.")
            continue
        if role not in ARM_ROLES:
            errors.add(
                f"arms.{i}.role", f"Arm '{label}': role must be one of {', '.join(ARM_ROLES)}."
            )
            continue
        seen.add(label.lower())
        arms.append({"label": label[:200], "role": role})
    if len(arms) > MAX_ARMS:
        errors.add("arms", f"At most {MAX_ARMS} arms.")
    return arms


# --- outcome data --------------------------------------------------------------------------

MEASURES = (
    "mean", "sd", "n", "events", "total", "estimate", "ci_lower", "ci_upper", "se", "r",
    "person_time", "mean_pre", "sd_pre",
)  # fmt: skip
#: Outcome types entered as one row per study and timepoint for the whole sample (no arm).
SINGLE_ROW_TYPES = ("generic", "proportion", "correlation", "single_rate", "paired", "mean")
INTEGER_MEASURES = ("n", "events", "total")


@dataclass(frozen=True)
class Conversion:
    label: str
    inputs: tuple[str, ...]
    gives: tuple[str, ...]


# Each helper calls the statistics engine; `n` is the arm's own n unless named otherwise.
CONVERSIONS: dict[str, Conversion] = {
    "sd_from_se": Conversion("SD from the standard error of the mean", ("se_mean",), ("sd",)),
    "sd_from_ci": Conversion(
        "SD from the 95% CI of the mean", ("ci_mean_lower", "ci_mean_upper"), ("sd",)
    ),
    "sd_from_t": Conversion(
        "Pooled SD from a two-sample t statistic", ("md", "t", "n_other"), ("sd",)
    ),
    "sd_from_p": Conversion("Pooled SD from a two-sided p-value", ("md", "p", "n_other"), ("sd",)),
    "mean_sd_from_median_iqr": Conversion(
        "Mean and SD from median and IQR (Wan 2014)", ("median", "q1", "q3"), ("mean", "sd")
    ),
    "mean_sd_from_median_range": Conversion(
        "Mean and SD from median and range (Wan 2014)",
        ("median", "minimum", "maximum"),
        ("mean", "sd"),
    ),
}


def convert(method: str, inputs: Mapping[str, float], n: float) -> dict[str, float]:
    """Run one conversion through analysis.stats; ValueError says what is wrong."""
    if method == "sd_from_se":
        sd = stats.sd_from_se([inputs["se_mean"]], [n])
        return {"sd": float(sd[0])}
    if method == "sd_from_ci":
        sd = stats.sd_from_ci([inputs["ci_mean_lower"]], [inputs["ci_mean_upper"]], [n])
        return {"sd": float(sd[0])}
    if method == "sd_from_t":
        sd = stats.sd_from_t([inputs["md"]], [inputs["t"]], [n], [inputs["n_other"]])
        return {"sd": float(sd[0])}
    if method == "sd_from_p":
        sd = stats.sd_from_p([inputs["md"]], [inputs["p"]], [n], [inputs["n_other"]])
        return {"sd": float(sd[0])}
    if method == "mean_sd_from_median_iqr":
        mean, sd = stats.mean_sd_from_median_iqr(
            [inputs["q1"]], [inputs["median"]], [inputs["q3"]], [n]
        )
        return {"mean": float(mean[0]), "sd": float(sd[0])}
    if method == "mean_sd_from_median_range":
        mean, sd = stats.mean_sd_from_median_range(
            [inputs["minimum"]], [inputs["median"]], [inputs["maximum"]], [n]
        )
        return {"mean": float(mean[0]), "sd": float(sd[0])}
    raise ValueError(f"unknown conversion {method}")


def _conversion_message(exc: Exception) -> str:
    text = str(exc)
    # The engine names "study 1"; here there is only the one row.
    return text.replace("study 1: ", "").replace("n - 1 must be positive", "n must be at least 2")


@dataclass
class CleanRow:
    outcome_id: int
    timepoint: str
    timepoint_weeks: Decimal | None
    arm: str
    values: dict[str, Any]
    conversion: str
    conversion_inputs: dict[str, float]
    notes: str

    @property
    def cell(self) -> tuple[int, str, str]:
        return (self.outcome_id, self.timepoint.lower(), self.arm.lower())


def clean_outcome_rows(
    rows: Any,
    *,
    outcomes: Mapping[int, Any],
    arms: Sequence[Mapping[str, str]],
    errors: Errors,
) -> list[CleanRow]:
    """`outcomes` maps id to an object with `outcome_type` and `name`."""
    if is_blank(rows):
        return []
    if not isinstance(rows, list):
        errors.add("outcomes", "Outcome data is a list of rows.")
        return []
    if len(rows) > MAX_OUTCOME_ROWS:
        errors.add("outcomes", f"At most {MAX_OUTCOME_ROWS} rows of outcome data.")
        return []
    arm_labels = {a["label"].lower(): a["label"] for a in arms}
    cleaned: list[CleanRow] = []
    seen: dict[tuple[int, str, str], int] = {}
    for i, row in enumerate(rows):
        at = f"outcomes.{i}"
        if not isinstance(row, dict):
            errors.add(at, f"Outcome row {i + 1} is not a row.")
            continue
        conversion = row.get("conversion") or ""
        if isinstance(conversion, dict):
            method = str(conversion.get("method") or "")
            raw_inputs = conversion.get("inputs") or {}
        else:
            method = str(conversion)
            raw_inputs = row.get("conversion_inputs") or {}
        if not isinstance(raw_inputs, dict):
            raw_inputs = {}
        filled = [m for m in MEASURES if not is_blank(row.get(m))]
        if not filled and not method and not any(not is_blank(v) for v in raw_inputs.values()):
            continue  # a blank row
        try:
            outcome = outcomes[int(row.get("outcome"))]  # type: ignore[arg-type]  # None raises TypeError, caught
        except (KeyError, TypeError, ValueError):
            errors.add(f"{at}.outcome", f"Row {i + 1}: choose one of this review's outcomes.")
            continue
        name = outcome.name
        timepoint = " ".join(str(row.get("timepoint") or "").split())
        if not timepoint:
            errors.add(
                f"{at}.timepoint", f"{name}, row {i + 1}: name the timepoint (e.g. '12 months')."
            )
        weeks: Decimal | None = None
        if not is_blank(row.get("timepoint_weeks")):
            try:
                weeks = _number(row["timepoint_weeks"])
                if weeks < 0 or weeks > 10000:
                    raise ValueError
            except ValueError:
                errors.add(
                    f"{at}.timepoint_weeks",
                    f"{name}, {timepoint}: follow-up in weeks must be a number from 0 to 10000.",
                )
                weeks = None
        arm = " ".join(str(row.get("arm") or "").split())
        if outcome.outcome_type not in SINGLE_ROW_TYPES or arm:
            if not arm:
                errors.add(f"{at}.arm", f"{name}, {timepoint}: choose the arm.")
            elif arm.lower() not in arm_labels:
                errors.add(
                    f"{at}.arm", f"{name}, {timepoint}: '{arm}' is not one of the study's arms."
                )
            else:
                arm = arm_labels[arm.lower()]
        where = f"{name}, {timepoint or '?'}, {arm or 'contrast'}"
        values: dict[str, Any] = {}
        for measure in MEASURES:
            raw = row.get(measure)
            if is_blank(raw):
                continue
            try:
                number = _number(raw)
            except ValueError:
                errors.add(f"{at}.{measure}", f"{where}: {measure} '{raw}' is not a number.")
                continue
            if measure in INTEGER_MEASURES:
                if number != number.to_integral_value() or number < 0:
                    errors.add(
                        f"{at}.{measure}",
                        f"{where}: {measure} must be a whole number of at least 0.",
                    )
                    continue
                values[measure] = int(number)
            else:
                values[measure] = float(number)
        inputs: dict[str, float] = {}
        if method:
            spec = CONVERSIONS.get(method)
            if spec is None:
                errors.add(f"{at}.conversion", f"{where}: unknown conversion '{method}'.")
            else:
                for name_ in spec.inputs:
                    raw = raw_inputs.get(name_)
                    try:
                        inputs[name_] = float(_number(raw))
                    except ValueError:
                        errors.add(
                            f"{at}.{name_}",
                            f"{where}: {spec.label} needs {name_.replace('_', ' ')}.",
                        )
                if len(inputs) == len(spec.inputs):
                    if "n" not in values:
                        errors.add(f"{at}.n", f"{where}: {spec.label} needs the arm's n.")
                    else:
                        try:
                            values.update(convert(method, inputs, values["n"]))
                        except ValueError as exc:
                            errors.add(
                                f"{at}.conversion",
                                f"{where}: {spec.label}: {_conversion_message(exc)}.",
                            )
        _check_measures(outcome.outcome_type, values, at, where, errors)
        clean = CleanRow(
            outcome_id=int(row["outcome"]),
            timepoint=timepoint[:100],
            timepoint_weeks=weeks,
            arm=arm,
            values=values,
            conversion=method if method in CONVERSIONS else "",
            conversion_inputs=inputs,
            notes=str(row.get("notes") or "")[:500],
        )
        if clean.cell in seen:
            errors.add(
                f"{at}.arm", f"{where} is entered twice (rows {seen[clean.cell] + 1} and {i + 1})."
            )
            continue
        seen[clean.cell] = i
        cleaned.append(clean)
    return cleaned


def _check_measures(kind: str, v: dict[str, Any], at: str, where: str, errors: Errors) -> None:
    allowed = {
        "continuous": {"mean", "sd", "n"},
        "dichotomous": {"events", "total"},
        "generic": {"estimate", "ci_lower", "ci_upper", "se", "n"},
        "proportion": {"events", "total"},
        "correlation": {"r", "n"},
        "rate": {"events", "person_time"},
        "single_rate": {"events", "person_time"},
        "paired": {"mean_pre", "sd_pre", "mean", "sd", "n", "r"},
        "mean": {"mean", "sd", "n"},
    }[kind]
    for measure in sorted(set(v) - allowed):
        errors.add(f"{at}.{measure}", f"{where}: {measure} does not apply to a {kind} outcome.")
    if "sd" in v and not v["sd"] > 0:
        errors.add(f"{at}.sd", f"{where}: SD must be greater than 0 (got {v['sd']:g}).")
    if "sd_pre" in v and not v["sd_pre"] > 0:
        errors.add(f"{at}.sd_pre", f"{where}: SD must be greater than 0 (got {v['sd_pre']:g}).")
    if "se" in v and not v["se"] > 0:
        errors.add(f"{at}.se", f"{where}: SE must be greater than 0 (got {v['se']:g}).")
    if "n" in v and v["n"] < 2:
        errors.add(f"{at}.n", f"{where}: n must be at least 2 (got {v['n']}).")
    if "r" in v and not -1 <= v["r"] <= 1:
        errors.add(f"{at}.r", f"{where}: a correlation lies between -1 and 1 (got {v['r']:g}).")
    if "person_time" in v and not v["person_time"] > 0:
        errors.add(
            f"{at}.person_time",
            f"{where}: person-time must be greater than 0 (got {v['person_time']:g}).",
        )
    if "total" in v and v["total"] < 1:
        errors.add(f"{at}.total", f"{where}: the total must be at least 1.")
    if "events" in v and "total" in v and v["events"] > v["total"]:
        errors.add(
            f"{at}.events", f"{where}: {v['events']} events exceed the total of {v['total']}."
        )
    lo, hi, est = v.get("ci_lower"), v.get("ci_upper"), v.get("estimate")
    if (lo is None) != (hi is None):
        errors.add(
            f"{at}.ci_lower" if lo is None else f"{at}.ci_upper", f"{where}: give both CI bounds."
        )
    if lo is not None and hi is not None:
        if lo >= hi:
            errors.add(
                f"{at}.ci_upper",
                f"{where}: the CI upper bound ({hi:g}) must exceed the lower ({lo:g}).",
            )
        elif est is not None and not lo <= est <= hi:
            errors.add(
                f"{at}.estimate",
                f"{where}: the CI {lo:g} to {hi:g} does not contain the estimate {est:g}.",
            )
    if kind == "generic" and est is not None and "se" not in v and lo is None:
        errors.add(f"{at}.se", f"{where}: give the SE or the CI of the estimate.")
    for key, value in v.items():
        if isinstance(value, float) and not math.isfinite(value):
            errors.add(f"{at}.{key}", f"{where}: {key} is not a finite number.")


__all__ = [
    "CONVERSIONS",
    "SINGLE_ROW_TYPES",
    "Errors",
    "clean_arms",
    "clean_outcome_rows",
    "clean_table",
    "clean_value",
]

"""The input CSV and an R script (metafor) that reproduces one stored result."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

CONTINUOUS = ("SMD", "MD", "ROM", "VR", "CVR")
DICHOTOMOUS = ("RR", "OR", "RD", "PETO")
PROPORTIONS = ("PLO", "PFT", "PAS", "PLN", "PR")
CORRELATIONS = ("ZCOR", "COR", "UCOR")
RATES = ("IRR", "IRD", "IRSD")
PAIRED = ("SMCC", "MC", "SMCR", "SMCRH")
MEANS = ("MN", "MNLN")
SINGLE_RATES = ("IRLN", "IR", "IRS", "IRFT")
#: metafor's back-transformation per measure, for predict(), forest() and the sensitivity
#: analyses; PFT's takes the harmonic mean of the sample sizes (transf.ipft.hm).
R_TRANSF = {
    "PLO": "transf = transf.ilogit, ",
    "PAS": "transf = transf.iarcsin, ",
    "PLN": "transf = exp, ",
    "PFT": "transf = transf.ipft.hm, targs = list(ni = dat$total), ",
    "ZCOR": "transf = transf.ztor, ",
    "IRR": "transf = exp, ",
    "IRLN": "transf = exp, ",
    "IRS": "transf = transf.isqrt, ",
    # transf.iirft takes one person-time; as for PFT, the harmonic mean of the studies'.
    "IRFT": "transf = function(x) transf.iirft(x, ti = 1 / mean(1 / dat$person_time)), ",
    "MNLN": "transf = exp, ",
}


def _columns(measure: str, subgroup_field: str) -> list[str]:
    base = ["study_id", "study", "year"]
    if measure in CONTINUOUS:
        cols = base + ["n1", "m1", "sd1", "n2", "m2", "sd2"]
    elif measure in DICHOTOMOUS:
        cols = base + ["events1", "total1", "events2", "total2"]
    elif measure in PROPORTIONS:
        cols = base + ["events", "total"]
    elif measure in CORRELATIONS:
        cols = base + ["r", "n"]
    elif measure in RATES:
        cols = base + ["events1", "pt1", "events2", "pt2"]
    elif measure in PAIRED:
        cols = base + ["mean", "sd", "mean_pre", "sd_pre", "n", "r"]
    elif measure in SINGLE_RATES:
        cols = base + ["events", "person_time"]
    elif measure in MEANS:
        cols = base + ["mean", "sd", "n"]
    else:
        cols = base + ["estimate", "se", "ci_lower", "ci_upper"]
    cols += ["timepoint", "rob"]
    if subgroup_field:
        cols.append("subgroup")
    return cols


def inputs_csv(payload: Mapping[str, Any], inputs: Sequence[Mapping[str, Any]]) -> str:
    """The rows the engine pooled (after missing-data exclusions), one line per study."""
    measure = payload.get("measure") or ""
    field = payload.get("subgroup_field") or ""
    # Three-level models pool several rows per study: a row is used by study and timepoint.
    ml = bool(payload.get("multilevel"))
    used = {_row_key(s, ml) for s in payload.get("studies") or []}
    cols = _columns(measure, field)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(cols)
    for row in inputs:
        if _row_key(row, ml) not in used:
            continue
        values = {
            **row,
            "study": row["label"],
            "subgroup": (row.get("subgroups") or {}).get(field) or "Not reported",
        }
        writer.writerow([_cell(c, values.get(c)) for c in cols])
    return out.getvalue()


def _row_key(row: Mapping[str, Any], multilevel: bool) -> Any:
    return (row["study_id"], row.get("timepoint")) if multilevel else row["study_id"]


#: Columns that count people or years: written as 4, not 4.0, when they are whole numbers.
_COUNT_COLUMNS = frozenset(
    {"year", "n1", "n2", "events1", "total1", "events2", "total2", "events", "total", "n"}
)


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column in _COUNT_COLUMNS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _r_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def r_script(
    payload: Mapping[str, Any], inputs: Sequence[Mapping[str, Any]], *, title: str, revman: bool
) -> str:
    """A self-contained R script: the data inline, then metafor calls with the same settings."""
    measure = payload.get("measure") or "SMD"
    method = payload.get("method") or "REML"
    fixed = payload.get("model") == "fixed"
    test = payload.get("test") or "z"
    level = payload.get("level") or 95
    overall = payload.get("overall") or {}
    data = inputs_csv(payload, inputs)
    lines = [
        f"# {title}",
        "# Reproduces the pooled result shown in the review app with R's metafor.",
        '# install.packages("metafor")',
        "library(metafor)",
        "",
        f"dat <- read.csv(text = {_r_string(data)}, stringsAsFactors = FALSE)",
        "",
    ]
    if measure in CONTINUOUS:
        lines.append(
            f'dat <- escalc(measure = "{measure}", m1i = m1, sd1i = sd1, n1i = n1, '
            "m2i = m2, sd2i = sd2, n2i = n2, data = dat, slab = study)"
        )
    elif measure in DICHOTOMOUS:
        lines.append(
            f'dat <- escalc(measure = "{measure}", ai = events1, n1i = total1, ci = events2, '
            "n2i = total2, data = dat, slab = study, drop00 = "
            f"{'TRUE' if measure != 'RD' else 'FALSE'})"
        )
    elif measure in PROPORTIONS:
        lines.append(
            f'dat <- escalc(measure = "{measure}", xi = events, ni = total, data = dat, '
            "slab = study)"
        )
    elif measure in ("SMCR", "SMCRH"):
        r = payload.get("prepost_correlation", 0.5)
        sd2 = "sd2i = sd, " if measure == "SMCRH" else ""
        lines += [
            f"dat$r[is.na(dat$r)] <- {r}  # pre-post correlation imputed where not reported",
            "# standardised by the baseline SD: metafor divides by sd1i",
            f'dat <- escalc(measure = "{measure}", m1i = mean, m2i = mean_pre, sd1i = sd_pre, '
            f"{sd2}ni = n, ri = r, data = dat, slab = study)",
        ]
    elif measure in PAIRED:
        r = payload.get("prepost_correlation", 0.5)
        lines += [
            f"dat$r[is.na(dat$r)] <- {r}  # pre-post correlation imputed where not reported",
            f'dat <- escalc(measure = "{measure}", m1i = mean, sd1i = sd, m2i = mean_pre, '
            "sd2i = sd_pre, ni = n, ri = r, data = dat, slab = study)",
        ]
    elif measure in RATES:
        lines.append(
            f'dat <- escalc(measure = "{measure}", x1i = events1, t1i = pt1, x2i = events2, '
            "t2i = pt2, data = dat, slab = study)"
        )
    elif measure in SINGLE_RATES:
        lines.append(
            f'dat <- escalc(measure = "{measure}", xi = events, ti = person_time, data = dat, '
            "slab = study)"
        )
    elif measure in CORRELATIONS:
        lines.append(
            f'dat <- escalc(measure = "{measure}", ri = r, ni = n, data = dat, slab = study)'
        )
    elif measure in MEANS:
        lines.append(
            f'dat <- escalc(measure = "{measure}", mi = mean, sdi = sd, ni = n, data = dat, '
            "slab = study)"
        )
    else:
        log = "log" if payload.get("ratio") else ""
        lines += [
            f"dat$yi <- {log}(dat$estimate)",
            f"z <- qnorm(1 - (1 - {level} / 100) / 2)",
            f"dat$sei <- ifelse(is.na(dat$se), "
            f"({log}(dat$ci_upper) - {log}(dat$ci_lower)) / (2 * z), dat$se)",
            "dat$vi <- dat$sei^2",
        ]
    if payload.get("harmonised"):
        lines.append("dat$yi <- -dat$yi  # signs harmonised: lower is better for this outcome")
    lines.append("")
    if payload.get("multilevel"):
        lines += [
            "dat$es <- seq_len(nrow(dat))  # effect sizes nested in studies",
            f'res <- rma.mv(yi, vi, random = ~ 1 | study_id/es, data = dat, method = "{method}", '
            f"level = {level}, slab = paste(study, timepoint))",
        ]
        if overall.get("robust"):
            lines += [
                "library(clubSandwich)  # cluster-robust inference, CR2 correction",
                "res <- robust(res, cluster = dat$study_id, clubSandwich = TRUE)",
            ]
    elif overall.get("method") == "MH":
        lines.append(
            f"res <- rma.mh(ai = events1, n1i = total1, ci = events2, n2i = total2, "
            f'measure = "{measure}", data = dat, slab = study, level = {level})'
        )
        if revman:
            lines.append(
                "# RevMan 5 adds 0.5 to zero-cell tables inside the MH estimate and uses the "
                "Greenland-Robins RD variance; metafor's rma.mh does neither (see meta::metabin)."
            )
    elif overall.get("method") == "PETO":
        lines.append(
            "res <- rma.peto(ai = events1, n1i = total1, ci = events2, n2i = total2, "
            f"data = dat, slab = study, level = {level})"
        )
    else:
        fit_method = "EE" if fixed else method
        lines.append(
            f'res <- rma(yi, vi, data = dat, method = "{fit_method}", test = "{test}", '
            f"level = {level}, slab = study)"
        )
    lines += ["print(res)", ""]
    tr = R_TRANSF.get(measure, "transf = exp, " if payload.get("ratio") else "")
    if not fixed and overall.get("pi_lb") is not None:
        lines += [f"predict(res, {tr}digits = 4)", ""]
    if payload.get("subgroups"):
        lines += [
            "# Subgroups: separate tau^2 per subgroup (as RevMan), then the test for differences",
            "fits <- lapply(split(dat, dat$subgroup), function(d) update(res, data = d))",
            "print(fits)",
            "est <- sapply(fits, coef); se <- sapply(fits, function(f) f$se)",
            'print(rma(est, sei = se, method = "EE"))  # QE is the test for subgroup differences',
            "",
        ]
    sens = payload.get("sensitivity") or {}
    if "leave_one_out" in sens:
        lines += [f"print(leave1out(res, {tr}digits = 4))", ""]
    if "cumulative" in sens:
        lines += [f"print(cumul(res, order = dat$year, {tr}digits = 4))", ""]
    if (payload.get("bias") or {}).get("egger"):
        lines += [
            'print(regtest(res, model = "lm"))  # Egger\'s test'
            if overall.get("method") not in ("MH", "PETO")
            else 'print(regtest(rma(yi, vi, data = dat, method = "EE"), model = "lm"))',
            "print(trimfill("
            + (
                "res"
                if overall.get("method") not in ("MH", "PETO")
                else 'rma(yi, vi, data = dat, method = "EE")'
            )
            + "))",
            "",
        ]
    lines += [
        f"forest(res, {tr}header = TRUE)",
        "funnel(res)",
        "",
        "# Values the app computed, for comparison:",
        f"#   estimate {overall.get('estimate')}, "
        f"CI [{overall.get('ci_lb')}, {overall.get('ci_ub')}]"
        + (" (log scale)" if payload.get("ratio") else "")
        + (f" ({measure} scale; back-transform with predict())" if measure in R_TRANSF else ""),
        f"#   tau2 {overall.get('tau2')}, I2 {overall.get('i2')}, Q {overall.get('q')} "
        f"(df {overall.get('q_df')})",
    ]
    return "\n".join(lines) + "\n"

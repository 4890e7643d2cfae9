"""Inter-rater agreement between two screeners: percent agreement, Cohen's kappa, PABAK, AC1.

Pure Python (no Django, no numpy) so that services, exports and tests can call it on any list of
vote pairs. The formulas, their references and the R packages they were checked against are in
``docs/agreement-and-prisma.md``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist

DEFAULT_CATEGORIES: tuple[str, ...] = ("include", "exclude", "maybe")


@dataclass(frozen=True)
class AgreementResult:
    """Agreement of two reviewers over the records both voted on.

    Every statistic is ``None`` when it is undefined: all of them when ``n == 0``, and kappa
    (with its SE and CI) when the chance agreement is 1, i.e. both reviewers put every record
    in the same single category. AC1 and PABAK stay defined there (both are 1).
    """

    n: int
    percent_agreement: float | None
    kappa: float | None
    kappa_se: float | None
    kappa_ci_lb: float | None
    kappa_ci_ub: float | None
    pabak: float | None
    ac1: float | None
    categories: tuple[str, ...]
    level: float = 0.95

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["categories"] = list(self.categories)
        return data


def agreement(
    pairs: Sequence[tuple[str, str]],
    *,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
    level: float = 0.95,
) -> AgreementResult:
    """Percent agreement, Cohen's kappa with CI, PABAK and Gwet's AC1 for two raters.

    Parameters
    ----------
    pairs
        One ``(vote_of_reviewer_a, vote_of_reviewer_b)`` per record both reviewers voted on,
        taken before any conflict resolution.
    categories
        The categories the reviewers could choose from (the rating scale). Categories that
        neither reviewer used still count in ``k`` for PABAK and ``q`` for AC1, as in R's
        ``irrCAC::gwet.ac1.raw(..., categ.labels=categories)``; kappa does not depend on them.
        Pass only the categories the stage offered (e.g. without ``"maybe"``).
    level
        Confidence level of the kappa interval, strictly between 0 and 1.

    Returns
    -------
    AgreementResult

    Raises
    ------
    ValueError
        A vote outside ``categories`` (the message names it), fewer than two categories, or a
        level outside (0, 1).

    Notes
    -----
    Kappa: Cohen (1960). Its standard error is the large-sample (non-null) SE of Fleiss, Cohen
    & Everitt (1969), as in R's ``vcd::Kappa`` and ``psych::cohen.kappa``; the Wald interval
    ``kappa +/- z * SE`` is clipped to [-1, 1] as ``irrCAC`` does. PABAK: Byrt, Bishop & Carlin
    (1993), ``(k * po - 1) / (k - 1)``. AC1: Gwet (2008),
    ``pe = sum_k pi_k (1 - pi_k) / (q - 1)`` with ``pi_k`` the mean of both raters' shares.
    """
    scale = _scale(categories)
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    index = {category: position for position, category in enumerate(scale)}
    k = len(scale)
    table = [[0] * k for _ in range(k)]
    for position, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ValueError(f"pair {position} has {len(pair)} votes, expected 2")
        a, b = pair
        for vote in (a, b):
            if vote not in index:
                raise ValueError(
                    f"unknown vote {vote!r} in pair {position}; expected one of "
                    + ", ".join(repr(c) for c in scale)
                )
        table[index[a]][index[b]] += 1
    return _from_table(table, scale, level)


def agreement_table_csv(rows: Sequence[tuple[str, str, str, AgreementResult]]) -> str:
    """CSV text, one row per ``(stage, reviewer_a, reviewer_b, result)``, with a header row.

    Undefined statistics are written as empty cells; numbers are rounded to 4 decimals
    (percent agreement to 2), which is more than any report quotes.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "stage",
            "reviewer_a",
            "reviewer_b",
            "n",
            "percent_agreement",
            "kappa",
            "kappa_se",
            "kappa_ci_lb",
            "kappa_ci_ub",
            "ci_level",
            "pabak",
            "ac1",
            "categories",
        ]
    )
    for stage, reviewer_a, reviewer_b, result in rows:
        writer.writerow(
            [
                _csv_safe(stage),
                _csv_safe(reviewer_a),
                _csv_safe(reviewer_b),
                result.n,
                _fmt(result.percent_agreement, 2),
                _fmt(result.kappa, 4),
                _fmt(result.kappa_se, 4),
                _fmt(result.kappa_ci_lb, 4),
                _fmt(result.kappa_ci_ub, 4),
                f"{result.level:g}",
                _fmt(result.pabak, 4),
                _fmt(result.ac1, 4),
                _csv_safe(";".join(result.categories)),
            ]
        )
    return buffer.getvalue()


def _scale(categories: Sequence[str]) -> tuple[str, ...]:
    if isinstance(categories, str):
        raise ValueError("categories must be a sequence of category names, not one string")
    scale = tuple(dict.fromkeys(categories))  # drops repeats, keeps the caller's order
    if len(scale) < 2:
        raise ValueError(f"agreement needs at least two categories, got {list(scale)!r}")
    return scale


def _from_table(table: list[list[int]], scale: tuple[str, ...], level: float) -> AgreementResult:
    k = len(scale)
    n = sum(map(sum, table))
    if n == 0:
        return AgreementResult(0, None, None, None, None, None, None, None, scale, level)
    p = [[cell / n for cell in row] for row in table]
    rows = [sum(row) for row in p]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    po = sum(p[i][i] for i in range(k))
    pabak = (k * po - 1) / (k - 1)

    pi = [(rows[c] + cols[c]) / 2 for c in range(k)]
    pe_gwet = sum(x * (1 - x) for x in pi) / (k - 1)
    ac1 = (po - pe_gwet) / (1 - pe_gwet)  # pe_gwet <= 1/k < 1, so AC1 is always defined

    kappa = se = lb = ub = None
    pe = sum(rows[c] * cols[c] for c in range(k))
    # pe == 1 only when both reviewers used one and the same category for every record;
    # compare with a tolerance because the shares are floats.
    if not math.isclose(pe, 1.0, rel_tol=0, abs_tol=1e-12):
        kappa = (po - pe) / (1 - pe)
        se = _kappa_se_fleiss_cohen_everitt(p, rows, cols, kappa, pe, n)
        z = NormalDist().inv_cdf(0.5 + level / 2)
        lb = max(-1.0, kappa - z * se)
        ub = min(1.0, kappa + z * se)
    return AgreementResult(n, 100 * po, kappa, se, lb, ub, pabak, ac1, scale, level)


def _kappa_se_fleiss_cohen_everitt(
    p: list[list[float]],
    rows: list[float],
    cols: list[float],
    kappa: float,
    pe: float,
    n: int,
) -> float:
    """Large-sample SE of kappa, Fleiss, Cohen & Everitt (1969), eq. 13 (not the null SE)."""
    k = len(p)
    total = 0.0
    for i in range(k):
        for j in range(k):
            weight = 1.0 if i == j else 0.0
            total += p[i][j] * (weight - (cols[i] + rows[j]) * (1 - kappa)) ** 2
    total -= (kappa - pe * (1 - kappa)) ** 2
    # Rounding can leave a tiny negative total when agreement is perfect.
    return math.sqrt(max(total, 0.0) / n) / (1 - pe)


def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in user text (CSV injection): names come from users."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

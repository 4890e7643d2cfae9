"""Command line: ``python -m analysis.stats pool FILE.csv --measure SMD --method REML``.

Subcommands ``pool``, ``egger``, ``trimfill`` and ``leave1out`` read a CSV whose columns
follow metafor's escalc names (``m1i sd1i n1i m2i sd2i n2i`` for continuous measures,
``ai bi ci di`` or ``ai n1i ci n2i`` for 2x2 tables, metafor's argument names for every
other measure, e.g. ``xi ni`` for PLO, ``ri ni`` for ZCOR, ``x1i t1i x2i t2i`` for IRR,
``yi`` with ``vi`` or ``sei`` for ``--measure GEN``) plus an optional ``study`` label, and
print the result as JSON. Any error is printed as one line on stderr, without a traceback
(exit code 2 for bad input, 1 for a computation that failed).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .bias import egger, trimfill
from .binary import pool_mh, pool_peto
from .effect_sizes import BINARY_MEASURES, CONTINUOUS_MEASURES, EffectSizes, escalc
from .measures import OTHER_MEASURES
from .pooling import pool
from .sensitivity import leave_one_out, subgroups

_COLUMNS = {
    "continuous": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
}


#: metafor's argument names for the single-group, rate, correlation and paired measures.
_METAFOR_COLUMNS = (
    "xi", "mi", "ni", "ti", "x1i", "x2i", "t1i", "t2i", "ri", "sdi",
    "m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i",
)  # fmt: skip


class InputError(Exception):
    """A problem with the input file, reported without a traceback."""


def _read_csv(path: str) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                raise InputError(f"{path}: the file is empty")
            header = [h.strip() for h in reader.fieldnames]
            rows = [
                {(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader
            ]
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the file is not UTF-8 text (save it as CSV UTF-8)") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise InputError(f"{path}: no data rows")
    return header, rows


def _column(rows: list[dict[str, str]], header: list[str], name: str, path: str) -> np.ndarray:
    if name not in header:
        raise InputError(f"{path}: missing column '{name}'")
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        raw = row.get(name, "")
        try:
            val = float(raw)
        except ValueError:
            raise InputError(
                f"{path}: row {i + 1} (line {i + 2}), column '{name}': {raw!r} is not a number"
            ) from None
        if not math.isfinite(val):
            raise InputError(
                f"{path}: row {i + 1} (line {i + 2}), column '{name}': value is missing"
            )
        out[i] = val
    return out


def _effect_sizes(
    path: str, measure: str
) -> tuple[EffectSizes, list[dict[str, str]], list[str], dict[str, Any]]:
    header, rows = _read_csv(path)
    labels = (
        [row.get("study") or str(i + 1) for i, row in enumerate(rows)]
        if "study" in header
        else None
    )
    col = lambda name: _column(rows, header, name, path)  # noqa: E731 -- a one-line alias reads better than a nested def
    tables: dict[str, Any] = {}
    if measure in CONTINUOUS_MEASURES:
        columns: dict[str, Any] = {c: col(c) for c in _COLUMNS["continuous"]}
        es = escalc(measure, **columns, labels=labels)
    elif measure in BINARY_MEASURES:
        if "bi" in header and "di" in header:
            tables = {"ai": col("ai"), "bi": col("bi"), "ci": col("ci"), "di": col("di")}
        else:
            tables = {"ai": col("ai"), "n1i": col("n1i"), "ci": col("ci"), "n2i": col("n2i")}
        es = escalc(measure, **tables, labels=labels)
    elif measure in OTHER_MEASURES:
        given: dict[str, Any] = {c: col(c) for c in _METAFOR_COLUMNS if c in header}
        es = escalc(measure, **given, labels=labels)
    elif measure == "GEN":
        yi = col("yi")
        vi = col("vi") if "vi" in header else col("sei") ** 2
        es = EffectSizes("GEN", yi, vi, tuple(labels or (str(i + 1) for i in range(len(yi)))))
    else:
        raise InputError(f"unknown measure {measure!r}")
    return es, rows, header, tables


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis.stats", description="Meta-analysis from a CSV file."
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_ in (
        ("pool", "pool the studies (optionally by subgroup)"),
        ("egger", "Egger's regression test for funnel-plot asymmetry"),
        ("trimfill", "Duval and Tweedie's trim and fill"),
        ("leave1out", "leave-one-out sensitivity analysis"),
    ):
        s = sub.add_parser(name, help=help_)
        s.add_argument("file")
        s.add_argument(
            "--measure",
            required=True,
            type=str.upper,
            help="SMD, MD, ROM, RR, OR, RD, PETO, any other metafor measure of escalc "
            "(PR, PLO, PFT, IR, IRR, COR, ZCOR, MC, SMCR, MN, VR, ...; columns named as "
            "metafor's arguments) or GEN (yi with vi or sei)",
        )
        s.add_argument(
            "--method",
            default="REML",
            type=str.upper,
            help="FE, DL, REML (default), ML, PM, HS, SJ, HE, EB; MH or PETO for 2x2 tables",
        )
        s.add_argument("--test", default="z", help="z (default) or knha")
        s.add_argument("--level", default=95.0, type=float, help="confidence level (default 95)")
        if name == "pool":
            s.add_argument("--subgroup", help="column holding the subgroup of each study")
            s.add_argument(
                "--tau2",
                default="separate",
                choices=("separate", "common"),
                help="subgroups: separate (default) or common tau2",
            )
        if name == "egger":
            s.add_argument("--model", default="rma", choices=("rma", "lm"))
    return p


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    es, rows, header, tables = _effect_sizes(args.file, args.measure)
    if args.method in ("MH", "PETO"):
        if args.command != "pool" or args.subgroup:
            raise InputError(
                f"--method {args.method} is only available for pool without --subgroup"
            )
        if not tables:
            raise InputError(f"--method {args.method} needs a 2x2 measure (RR, OR, RD)")
        if args.method == "MH":
            return pool_mh(
                **tables, measure=args.measure, level=args.level, labels=es.labels
            ).to_dict()
        return pool_peto(**tables, level=args.level, labels=es.labels).to_dict()
    common = {"method": args.method, "test": args.test, "level": args.level}
    if args.command == "pool":
        if args.subgroup:
            if args.subgroup not in header:
                raise InputError(f"{args.file}: missing column '{args.subgroup}'")
            groups = [row[args.subgroup] for row in rows]
            return subgroups(es, None, groups, tau2=args.tau2, **common).to_dict()
        return pool(es, **common).to_dict()
    if args.command == "egger":
        return egger(
            es, model=args.model, method=args.method, test=args.test, level=args.level
        ).to_dict()
    if args.command == "trimfill":
        return trimfill(es, **common).to_dict()
    return leave_one_out(es, **common).to_dict()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        result = run(argv)
        text = json.dumps(result, indent=2, allow_nan=False)
    except (InputError, ValueError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 -- a command line reports every failure in one line
        print(
            f"error: the computation failed ({type(exc).__name__}: {_one_line(exc)})",
            file=sys.stderr,
        )
        return 1
    sys.stdout.write(text)
    sys.stdout.write("\n")
    return 0


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())

"""The analysis result as typed, immutable values: what `analysis.compute` returns and what
plots, the R script, the API and the templates read.

The JSON stored in `AnalysisResult.payload` is `ComputedResult.to_json()`; `from_json` reads
it back, including payloads stored before the schema was versioned (they have no
`schema_version` and the same keys, some of the scale keys missing: see `analysis.scales`).
Pure: no Django, no database.

Where the engine's own output varies by estimator (inverse variance, Mantel-Haenszel, Peto,
three-level), the fields every reader needs are typed and the rest is kept, unchanged, in
`extra`, so a round trip through JSON loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Version of the stored JSON. 0 is a payload stored before it carried a version: the same
#: shape, read as it is. Bump it with a reader for the old shape when the shape changes.
SCHEMA_VERSION = 1


def _opt_float(x: Any) -> float | None:
    return None if x is None else float(x)


@dataclass(frozen=True)
class Missing:
    """A study left out of the analysis, with the reason shown to the lead."""

    study_id: int
    label: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"study_id": self.study_id, "label": self.label, "reason": self.reason}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Missing:
        return cls(
            study_id=d.get("study_id", 0), label=d.get("label", ""), reason=d.get("reason", "")
        )


#: A study's typed keys; the rest of its stored dict is the extracted data (`StudyResult.data`).
_STUDY_KEYS = ("study_id", "label", "year", "yi", "vi", "ci_lb", "ci_ub", "weight", "group")


@dataclass(frozen=True)
class StudyResult:
    """One study (or, in a three-level model, one effect size) as it enters the pooled model:
    its effect on the analysis scale with its confidence interval and weight."""

    study_id: int
    label: str
    year: int | None
    yi: float
    vi: float
    ci_lb: float
    ci_ub: float
    weight: float | None
    #: Its subgroup (or, three-level, its study), None without a subgroup analysis.
    group: str | None
    #: The extracted numbers and annotations of its `StudyRow` (arms, rob, subgroups, ...).
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rob(self) -> str | None:
        value = self.data.get("rob")
        return None if value is None else str(value)

    def get(self, key: str, default: Any = None) -> Any:
        """A stored key by name, typed or extracted (for readers of the per-study table)."""
        if key in _STUDY_KEYS:
            return getattr(self, key)
        return self.data.get(key, default)

    def to_json(self) -> dict[str, Any]:
        return {**self.data, **{k: getattr(self, k) for k in _STUDY_KEYS}}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> StudyResult:
        data = {k: v for k, v in d.items() if k not in _STUDY_KEYS}
        return cls(
            study_id=d.get("study_id", 0),
            label=d.get("label", ""),
            year=d.get("year"),
            yi=float(d["yi"]),
            vi=float(d["vi"]),
            ci_lb=float(d["ci_lb"]),
            ci_ub=float(d["ci_ub"]),
            weight=_opt_float(d.get("weight")),
            group=d.get("group"),
            data=data,
        )


#: A pooled fit's typed keys; any other key the estimator reports stays in `Pooled.extra`.
_POOLED_KEYS = (
    "k", "method", "estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "i2", "pi_lb", "pi_ub",
    "weights", "warnings",
)  # fmt: skip


@dataclass(frozen=True)
class Pooled:
    """One pooled fit (the main model, a subgroup, a sensitivity refit, trim-and-fill's
    adjusted model), on the analysis scale."""

    k: int
    method: str
    estimate: float | None
    se: float | None
    ci_lb: float | None
    ci_ub: float | None
    pval: float | None
    tau2: float | None = None
    i2: float | None = None
    #: The prediction interval, None when not asked for, common-effect, or k < 3.
    pi_lb: float | None = None
    pi_ub: float | None = None
    #: Each study's weight in percent, in the order of the studies pooled.
    weights: tuple[float | None, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The estimator's other figures (Q, its df and p, H², z or t, three-level variance
    #: components, ...), as the engine's `to_dict()` gives them.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_studies(self) -> int | None:
        """Three-level model: the number of studies the `k` effect sizes come from."""
        value = self.extra.get("n_studies")
        return None if value is None else int(value)

    def get(self, key: str, default: Any = None) -> Any:
        if key in _POOLED_KEYS:
            return getattr(self, key)
        return self.extra.get(key, default)

    def to_json(self) -> dict[str, Any]:
        d = {**self.extra, **{k: getattr(self, k) for k in _POOLED_KEYS}}
        d["weights"] = list(self.weights)
        d["warnings"] = list(self.warnings)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Pooled:
        return cls(
            k=int(d.get("k") or 0),
            method=str(d.get("method") or ""),
            estimate=_opt_float(d.get("estimate")),
            se=_opt_float(d.get("se")),
            ci_lb=_opt_float(d.get("ci_lb")),
            ci_ub=_opt_float(d.get("ci_ub")),
            pval=_opt_float(d.get("pval")),
            tau2=_opt_float(d.get("tau2")),
            i2=_opt_float(d.get("i2")),
            pi_lb=_opt_float(d.get("pi_lb")),
            pi_ub=_opt_float(d.get("pi_ub")),
            weights=tuple(_opt_float(w) for w in d.get("weights") or ()),
            warnings=tuple(d.get("warnings") or ()),
            extra={k: v for k, v in d.items() if k not in _POOLED_KEYS},
        )


@dataclass(frozen=True)
class Subgroup:
    name: str
    #: The study ids in this subgroup.
    studies: tuple[int, ...]
    pool: Pooled
    participants: int

    def to_json(self) -> dict[str, Any]:
        pool = self.pool.to_json()
        return {
            "name": self.name,
            "studies": list(self.studies),
            "pool": pool,
            "weights": pool["weights"],
            "participants": self.participants,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Subgroup:
        return cls(
            name=d["name"],
            studies=tuple(d.get("studies") or ()),
            pool=Pooled.from_json(d["pool"]),
            participants=int(d.get("participants") or 0),
        )


@dataclass(frozen=True)
class SubgroupTest:
    """The test for subgroup differences."""

    q: float | None
    df: int | None
    pval: float | None
    i2: float | None

    def to_json(self) -> dict[str, Any]:
        return {"q": self.q, "df": self.df, "pval": self.pval, "i2": self.i2}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SubgroupTest:
        return cls(q=d.get("q"), df=d.get("df"), pval=d.get("pval"), i2=d.get("i2"))


@dataclass(frozen=True)
class Subgroups:
    field: str
    groups: tuple[Subgroup, ...]
    test: SubgroupTest

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "groups": [g.to_json() for g in self.groups],
            "test": self.test.to_json(),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Subgroups:
        return cls(
            field=d.get("field", ""),
            groups=tuple(Subgroup.from_json(g) for g in d.get("groups") or ()),
            test=SubgroupTest.from_json(d.get("test") or {}),
        )


@dataclass(frozen=True)
class RobSensitivity:
    """The main model without the studies at high risk of bias."""

    excluded: tuple[str, ...]
    pool: Pooled | None
    #: Why there is no refit (no judgements yet, or every study at high risk).
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "excluded": list(self.excluded),
            "pool": None if self.pool is None else self.pool.to_json(),
        }
        if self.note:
            d["note"] = self.note
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RobSensitivity:
        pool = d.get("pool")
        return cls(
            excluded=tuple(d.get("excluded") or ()),
            pool=None if pool is None else Pooled.from_json(pool),
            note=d.get("note") or "",
        )


@dataclass(frozen=True)
class Sequential:
    """Leave-one-out or cumulative refits: one row per refit, as the engine reports them
    (`omitted` or `added`, then the fit's estimate, interval, tau², I², ...)."""

    kind: str
    rows: tuple[Mapping[str, Any], ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**self.extra, "kind": self.kind, "rows": [dict(r) for r in self.rows]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Sequential:
        return cls(
            kind=d.get("kind", ""),
            rows=tuple(d.get("rows") or ()),
            extra={k: v for k, v in d.items() if k not in ("kind", "rows")},
        )


@dataclass(frozen=True)
class Sensitivity:
    exclude_high_rob: RobSensitivity | None = None
    leave_one_out: Sequential | None = None
    cumulative: Sequential | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.exclude_high_rob is not None:
            d["exclude_high_rob"] = self.exclude_high_rob.to_json()
        if self.leave_one_out is not None:
            d["leave_one_out"] = self.leave_one_out.to_json()
        if self.cumulative is not None:
            d["cumulative"] = self.cumulative.to_json()
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Sensitivity:
        rob, loo, cum = d.get("exclude_high_rob"), d.get("leave_one_out"), d.get("cumulative")
        return cls(
            exclude_high_rob=None if rob is None else RobSensitivity.from_json(rob),
            leave_one_out=None if loo is None else Sequential.from_json(loo),
            cumulative=None if cum is None else Sequential.from_json(cum),
        )


@dataclass(frozen=True)
class FilledStudy:
    """A study trim-and-fill imputes, mirroring `mirrors` across the adjusted estimate."""

    yi: float
    vi: float
    mirrors: str

    def to_json(self) -> dict[str, Any]:
        return {"yi": self.yi, "vi": self.vi, "mirrors": self.mirrors}


@dataclass(frozen=True)
class TrimFill:
    k0: int
    side: str
    filled: tuple[FilledStudy, ...]
    adjusted: Pooled

    def to_json(self) -> dict[str, Any]:
        return {
            "k0": self.k0,
            "side": self.side,
            "filled": [f.to_json() for f in self.filled],
            "adjusted": self.adjusted.to_json(),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TrimFill:
        return cls(
            k0=int(d.get("k0") or 0),
            side=d.get("side", ""),
            filled=tuple(
                FilledStudy(float(f["yi"]), float(f["vi"]), f["mirrors"])
                for f in d.get("filled") or ()
            ),
            adjusted=Pooled.from_json(d["adjusted"]),
        )


@dataclass(frozen=True)
class BiasTests:
    """Small-study tests, run from three studies on."""

    #: Egger's regression test, as `analysis.stats.bias.EggerResult.to_dict()` gives it.
    egger: Mapping[str, Any] | None = None
    trimfill: TrimFill | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.egger is not None:
            d["egger"] = dict(self.egger)
        if self.trimfill is not None:
            d["trimfill"] = self.trimfill.to_json()
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BiasTests:
        tf = d.get("trimfill")
        return cls(egger=d.get("egger"), trimfill=None if tf is None else TrimFill.from_json(tf))


@dataclass(frozen=True)
class Scale:
    """How the measure is shown (`analysis.scales.scale_fields` and `sample_sizes`)."""

    #: The measure whose back-transformation applies, None for ratios and differences.
    transform: str | None = None
    percent: bool = False
    single_group: bool = False
    natural_label: str | None = None
    per: float | None = None
    #: Harmonic means of the studies' n (PFT) and person-time (IRFT) for the pooled values.
    transform_ni: float | None = None
    transform_ti: float | None = None


_SCALE_OPTIONAL = ("natural_label", "per", "transform_ni", "transform_ti")


@dataclass(frozen=True)
class ComputedResult:
    """One analysis computed: the settings it was run with, the studies, the pooled result,
    subgroups, sensitivity analyses and small-study tests, with warnings for the lead."""

    measure: str
    measure_label: str
    ratio: bool
    model: str
    method: str
    test: str
    level: float
    direction: str
    harmonised: bool
    mantel_haenszel: bool
    intervention_label: str
    control_label: str
    subgroup_field: str = ""
    subgroup_label: str = ""
    scale: Scale = field(default_factory=Scale)
    multilevel: bool = False
    studies: tuple[StudyResult, ...] = ()
    overall: Pooled | None = None
    subgroups: Subgroups | None = None
    sensitivity: Sensitivity = field(default_factory=Sensitivity)
    bias: BiasTests = field(default_factory=BiasTests)
    participants: int = 0
    missing: tuple[Missing, ...] = ()
    warnings: tuple[str, ...] = ()
    #: Paired outcomes: the pre-post correlation imputed where a study reports none.
    prepost_correlation: float | None = None
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        s = self.scale
        d: dict[str, Any] = {
            "schema_version": self.schema_version,
            "measure": self.measure,
            "measure_label": self.measure_label,
            "ratio": self.ratio,
            "transform": s.transform,
            "percent": s.percent,
            "single_group": s.single_group,
            "model": self.model,
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "direction": self.direction,
            "harmonised": self.harmonised,
            "mantel_haenszel": self.mantel_haenszel,
            "intervention_label": self.intervention_label,
            "control_label": self.control_label,
            "subgroup_field": self.subgroup_field,
            "subgroup_label": self.subgroup_label,
            "studies": [st.to_json() for st in self.studies],
            "overall": None if self.overall is None else self.overall.to_json(),
            "subgroups": None if self.subgroups is None else self.subgroups.to_json(),
            "sensitivity": self.sensitivity.to_json(),
            "bias": self.bias.to_json(),
            "participants": self.participants,
            "missing": [m.to_json() for m in self.missing],
            "warnings": list(self.warnings),
        }
        for key in _SCALE_OPTIONAL:
            if getattr(s, key) is not None:
                d[key] = getattr(s, key)
        if self.multilevel:
            d["multilevel"] = True
        if self.prepost_correlation is not None:
            d["prepost_correlation"] = self.prepost_correlation
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ComputedResult:
        """Read a stored payload, of this schema version or an earlier one."""
        version = int(d.get("schema_version") or 0)
        if version > SCHEMA_VERSION:
            raise ValueError(f"result schema {version} is newer than this code ({SCHEMA_VERSION})")
        overall, subgroups = d.get("overall"), d.get("subgroups")
        return cls(
            measure=d.get("measure", ""),
            measure_label=d.get("measure_label") or d.get("measure", ""),
            ratio=bool(d.get("ratio")),
            model=d.get("model", ""),
            method=d.get("method", ""),
            test=d.get("test", "z"),
            level=float(d.get("level") or 95.0),
            direction=d.get("direction", ""),
            harmonised=bool(d.get("harmonised")),
            mantel_haenszel=bool(d.get("mantel_haenszel")),
            intervention_label=d.get("intervention_label", ""),
            control_label=d.get("control_label", ""),
            subgroup_field=d.get("subgroup_field") or "",
            subgroup_label=d.get("subgroup_label") or "",
            scale=Scale(
                transform=d.get("transform"),
                percent=bool(d.get("percent")),
                single_group=bool(d.get("single_group")),
                natural_label=d.get("natural_label"),
                per=d.get("per"),
                transform_ni=d.get("transform_ni"),
                transform_ti=d.get("transform_ti"),
            ),
            multilevel=bool(d.get("multilevel")),
            studies=tuple(StudyResult.from_json(st) for st in d.get("studies") or ()),
            overall=None if overall is None else Pooled.from_json(overall),
            subgroups=None if subgroups is None else Subgroups.from_json(subgroups),
            sensitivity=Sensitivity.from_json(d.get("sensitivity") or {}),
            bias=BiasTests.from_json(d.get("bias") or {}),
            participants=int(d.get("participants") or 0),
            missing=tuple(Missing.from_json(m) for m in d.get("missing") or ()),
            warnings=tuple(d.get("warnings") or ()),
            prepost_correlation=d.get("prepost_correlation"),
            schema_version=SCHEMA_VERSION,
        )

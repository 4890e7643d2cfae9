"""Meta-analysis statistics engine (numpy/scipy only; no Django, no database).

Results match R's metafor; see docs/statistical-methods.md, whose "Public API" section
lists every name exported here.
"""

from .bias import BeggResult, EggerResult, TrimFillResult, begg, egger, trimfill
from .binary import pool_mh, pool_peto
from .effect_sizes import (
    EffectSizes,
    escalc,
    generic_iv,
    mean_sd_from_five_numbers,
    mean_sd_from_median_iqr,
    mean_sd_from_median_range,
    sd_from_ci,
    sd_from_md_ci,
    sd_from_p,
    sd_from_se,
    sd_from_t,
)
from .measures import transform
from .multilevel import MultilevelResult, pool_multilevel
from .pooling import MetaRegResult, metareg, pool
from .results import PoolResult, QProfile
from .sensitivity import (
    SequentialResult,
    SubgroupResult,
    cumulative,
    leave_one_out,
    leave_one_out_tables,
    subgroups,
)

__all__ = [
    "BeggResult",
    "EffectSizes",
    "EggerResult",
    "MetaRegResult",
    "MultilevelResult",
    "PoolResult",
    "QProfile",
    "SequentialResult",
    "SubgroupResult",
    "TrimFillResult",
    "begg",
    "cumulative",
    "egger",
    "escalc",
    "generic_iv",
    "leave_one_out",
    "leave_one_out_tables",
    "mean_sd_from_five_numbers",
    "mean_sd_from_median_iqr",
    "mean_sd_from_median_range",
    "metareg",
    "pool",
    "pool_mh",
    "pool_multilevel",
    "pool_peto",
    "sd_from_ci",
    "sd_from_md_ci",
    "sd_from_p",
    "sd_from_se",
    "sd_from_t",
    "subgroups",
    "transform",
    "trimfill",
]

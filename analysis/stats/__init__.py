"""Meta-analysis statistics engine (numpy/scipy only; no Django, no database).

Results match R's metafor; see docs/statistical-methods.md.
"""

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
from .multilevel import MultilevelResult, pool_multilevel
from .pooling import MetaRegResult, metareg, pool
from .results import PoolResult, QProfile

__all__ = [
    "EffectSizes",
    "MetaRegResult",
    "MultilevelResult",
    "PoolResult",
    "QProfile",
    "escalc",
    "generic_iv",
    "mean_sd_from_five_numbers",
    "mean_sd_from_median_iqr",
    "mean_sd_from_median_range",
    "metareg",
    "pool",
    "pool_multilevel",
    "sd_from_ci",
    "sd_from_md_ci",
    "sd_from_p",
    "sd_from_se",
    "sd_from_t",
]

"""Which analysis measures belong to which kind of outcome: plain constants, below the models,
the display scales and the plots that all read them."""

CONTINUOUS_MEASURES = ("SMD", "MD", "ROM")
DICHOTOMOUS_MEASURES = ("RR", "OR", "RD", "PETO")
MH_MEASURES = ("RR", "OR", "RD")
PROPORTION_MEASURES = ("PLO", "PFT", "PAS", "PLN", "PR")
CORRELATION_MEASURES = ("ZCOR", "COR")
RATE_MEASURES = ("IRR", "IRD")
SINGLE_RATE_MEASURES = ("IRLN", "IR", "IRS", "IRFT")
PAIRED_MEASURES = ("SMCC", "MC")
#: Measures of one group per study: no comparison, so no "favours" side and no null line.
SINGLE_GROUP_MEASURES = PROPORTION_MEASURES + CORRELATION_MEASURES + SINGLE_RATE_MEASURES

"""Which analysis measures belong to which kind of outcome: plain constants, below the models,
the display scales and the plots that all read them."""

#: VR and CVR compare the arms' variability (SDs; CVR the coefficients of variation).
CONTINUOUS_MEASURES = ("SMD", "MD", "ROM", "VR", "CVR")
DICHOTOMOUS_MEASURES = ("RR", "OR", "RD", "PETO")
MH_MEASURES = ("RR", "OR", "RD")
PROPORTION_MEASURES = ("PLO", "PFT", "PAS", "PLN", "PR")
CORRELATION_MEASURES = ("ZCOR", "COR", "UCOR")
RATE_MEASURES = ("IRR", "IRD", "IRSD")
SINGLE_RATE_MEASURES = ("IRLN", "IR", "IRS", "IRFT")
#: One group measured twice. SMCR and SMCRH are standardised by the baseline SD, so SMCR
#: needs no follow-up SD (metafor's sd1i is given the baseline SD).
PAIRED_MEASURES = ("SMCC", "MC", "SMCR", "SMCRH")
#: One group's mean (mean, SD, n): raw or log-transformed, shown back as a mean.
MEAN_MEASURES = ("MN", "MNLN")
#: Measures of one group per study: no comparison, so no "favours" side and no null line.
SINGLE_GROUP_MEASURES = (
    PROPORTION_MEASURES + CORRELATION_MEASURES + SINGLE_RATE_MEASURES + MEAN_MEASURES
)

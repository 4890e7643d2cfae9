# Reference values for the app's single-group mean outcomes (MN, MNLN) and its paired
# outcomes standardised by the baseline SD (SMCR, SMCRH), computed by metafor from the same
# rows the tests enter through extraction.
#
#   Rscript tests/analysis/reference/make_app_reference.R
#
# writes app_reference.json next to this script; tests/analysis/test_means.py reads only the
# JSON (inputs and expected values). Means: the first six studies of metadat's dat.curtis1998
# (ambient CO2 arm: m2i, sd2i, n2i). Paired: illustrative pre-post rows; one study has no
# follow-up SD (SMCR uses it, SMCRH leaves it out) and two no pre-post correlation (imputed
# with 0.5, the app's default).

suppressMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

num <- function(x) unname(as.numeric(x))
fit <- function(es, transf = NULL) {
  ok <- !is.na(es$yi)
  res <- rma(es$yi[ok], es$vi[ok], method = "REML")
  out <- list(k = res$k, yi = num(es$yi), vi = num(es$vi), estimate = num(res$beta),
              se = num(res$se), ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub),
              tau2 = num(res$tau2), i2 = num(res$I2), q = num(res$QE))
  if (!is.null(transf)) {
    p <- predict(res, transf = transf)
    out$natural <- c(num(p$pred), num(p$ci.lb), num(p$ci.ub))
  }
  out
}

d <- dat.curtis1998[1:6, ]
means <- list(label = sprintf("Curtis %d-%d %d", d$paper, d$id, 2000 + seq_len(6)), mi = d$m2i, sdi = d$sd2i,
              ni = d$n2i)
mean_cases <- list(
  MN = fit(escalc("MN", mi = means$mi, sdi = means$sdi, ni = means$ni)),
  MNLN = fit(escalc("MNLN", mi = means$mi, sdi = means$sdi, ni = means$ni), transf = exp)
)

paired <- list(
  label = c("Abel 2013", "Boyd 2016", "Cruz 2018", "Dean 2021", "Eady 2022"),
  mean_pre = c(22.0, 25.3, 19.8, 23.4, 21.1), sd_pre = c(6.1, 5.0, 7.2, 6.6, 5.9),
  mean = c(17.5, 21.9, 18.1, 20.2, 16.0), sd = c(6.4, 5.6, 7.0, 6.9, NA),
  n = c(40, 28, 75, 52, 33), r = c(0.62, NA, 0.71, NA, 0.55)
)
ri <- ifelse(is.na(paired$r), 0.5, paired$r)
paired_cases <- list(
  SMCR = fit(escalc("SMCR", m1i = paired$mean, m2i = paired$mean_pre, sd1i = paired$sd_pre,
                    ni = paired$n, ri = ri)),
  SMCRH = fit(escalc("SMCRH", m1i = paired$mean, m2i = paired$mean_pre, sd1i = paired$sd_pre,
                     sd2i = paired$sd, ni = paired$n, ri = ri))
)

out <- list(
  generator = "tests/analysis/reference/make_app_reference.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  means = list(input = means, expected = mean_cases),
  paired = list(input = paired, imputed_r = 0.5, expected = paired_cases)
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
           file.path(here, "app_reference.json"))

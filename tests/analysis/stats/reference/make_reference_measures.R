# Reference values for the single-group, rate, correlation, change-score and variability
# measures of escalc, a pooled rma() on each and the back-transformations for display.
#
#   Rscript tests/analysis/stats/reference/make_reference_measures.R
#
# writes metafor_measures.json next to this script; the tests read only the JSON. Data are
# metafor's own datasets (package metadat) where one exists for the measure; metadat 1.2
# has no pre-post dataset, so the change-score measures use seeded random data, and so
# do the zero-count and small-sample edge cases. UCOR needs R's gsl package.

suppressMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
out_file <- file.path(here, "metafor_measures.json")

num <- function(x) if (is.null(x) || length(x) == 0) NA else unname(as.numeric(x))
cases <- list()
add_case <- function(case) cases[[length(cases) + 1]] <<- case

# Back-transformation metafor uses to show each measure on its natural scale.
transf_for <- function(measure, input) {
  if (is.null(input$ni) && !is.null(input$xi) && !is.null(input$mi)) input$ni <- input$xi + input$mi
  switch(measure,
    PLO = list(fn = transf.ilogit, name = "ilogit", targs = NULL),
    PLN = , IRLN = , IRR = , MNLN = , VR = , CVR = list(fn = exp, name = "exp", targs = NULL),
    PAS = list(fn = transf.iarcsin, name = "iarcsin", targs = NULL),
    PFT = list(fn = transf.ipft.hm, name = "ipft.hm", targs = list(ni = input$ni)),
    IRS = list(fn = transf.isqrt, name = "isqrt", targs = NULL),
    IRFT = list(fn = transf.iirft, name = "iirft", targs = 1 / mean(1 / input$ti)),
    ZCOR = list(fn = transf.ztor, name = "ztor", targs = NULL),
    NULL)
}

measure_case <- function(name, measure, input, extra = list(), pool = TRUE) {
  es <- suppressWarnings(do.call(escalc, c(list(measure = measure), input, extra)))
  add_case(list(kind = "escalc", dataset = name, measure = measure, params = extra,
                input = input, expected = list(yi = num(es$yi), vi = num(es$vi))))
  if (!pool) return(invisible(es))
  ok <- !is.na(es$yi) & !is.na(es$vi) & es$vi > 0
  for (m in c("REML", "DL")) {
    res <- suppressWarnings(rma(es$yi[ok], es$vi[ok], method = m))
    out <- list(k = res$k, estimate = num(res$beta), se = num(res$se), ci_lb = num(res$ci.lb),
                ci_ub = num(res$ci.ub), tau2 = num(res$tau2), i2 = num(res$I2), q = num(res$QE))
    tf <- transf_for(measure, input)
    if (!is.null(tf)) {
      pr <- if (is.null(tf$targs)) predict(res, transf = tf$fn) else
        predict(res, transf = tf$fn, targs = tf$targs)
      out$transf <- tf$name
      out$transf_targs <- tf$targs
      out$transf_pred <- num(pr$pred); out$transf_ci_lb <- num(pr$ci.lb)
      out$transf_ci_ub <- num(pr$ci.ub)
      out$transf_pi_lb <- num(pr$pi.lb); out$transf_pi_ub <- num(pr$pi.ub)
      # Per-study back-transformation (metafor's transf.ipft with each study's n).
      if (measure == "PFT") out$transf_yi <- num(transf.ipft(es$yi, tf$targs$ni))
      else if (measure == "IRFT") out$transf_yi <- num(transf.iirft(es$yi, input$ti))
      else out$transf_yi <- num(tf$fn(es$yi))
    }
    add_case(list(kind = "pool", dataset = name, measure = measure, method = m,
                  input = list(yi = num(es$yi[ok]), vi = num(es$vi[ok])), expected = out))
  }
  invisible(es)
}

# --- single proportions: PR, PLN, PLO, PAS, PFT ------------------------------------------
pr <- dat.pritz1997
for (m in c("PR", "PLN", "PLO", "PAS", "PFT")) measure_case("pritz1997", m, list(xi = pr$xi, ni = pr$ni))
db <- dat.debruin2009
for (m in c("PR", "PLN", "PLO", "PAS", "PFT"))
  measure_case("debruin2009", m, list(xi = db$xi, mi = db$mi))
measure_case("pritz1997", "PR", list(xi = pr$xi, ni = pr$ni), list(vtype = "UB"), pool = FALSE)
measure_case("pritz1997", "PR", list(xi = pr$xi, ni = pr$ni), list(vtype = "AV"), pool = FALSE)
measure_case("pritz1997", "PLO", list(xi = pr$xi, ni = pr$ni), list(vtype = "AV"), pool = FALSE)
measure_case("pritz1997", "PLN", list(xi = pr$xi, ni = pr$ni), list(vtype = "AV"), pool = FALSE)
# Zero and all-event studies: 0.5 added (PR, PLN, PLO), nothing added (PAS, PFT).
set.seed(14)
zp <- list(xi = c(0, 3, 12, 25, 0, 40, 7), ni = c(20, 35, 12, 60, 8, 41, 90))
for (m in c("PR", "PLN", "PLO", "PAS", "PFT")) measure_case("zero_events", m, zp)
measure_case("zero_events", "PLO", zp, list(to = "all"), pool = FALSE)
measure_case("zero_events", "PLO", zp, list(add = 0), pool = FALSE)
measure_case("zero_events", "PR", zp, list(to = "if0all"), pool = FALSE)
measure_case("zero_events", "PFT", zp, list(add = 0.5), pool = FALSE)

# --- single rates: IR, IRLN, IRS, IRFT ----------------------------------------------------
hr <- dat.hart1999
for (m in c("IR", "IRLN", "IRS", "IRFT")) measure_case("hart1999_arm1", m, list(xi = hr$x1i, ti = hr$t1i))
nw <- dat.nielweise2008
for (m in c("IR", "IRLN", "IRS", "IRFT")) measure_case("nielweise2008_arm1", m, list(xi = nw$x1i, ti = nw$t1i))
zr <- list(xi = c(0, 4, 11, 0, 30), ti = c(120.5, 300, 410.2, 95, 1020))
for (m in c("IR", "IRLN", "IRS", "IRFT")) measure_case("zero_rates", m, zr)

# --- two-group rates: IRR, IRD, IRSD ------------------------------------------------------
for (m in c("IRR", "IRD", "IRSD")) {
  measure_case("hart1999", m, list(x1i = hr$x1i, t1i = hr$t1i, x2i = hr$x2i, t2i = hr$t2i))
  measure_case("nielweise2008", m, list(x1i = nw$x1i, t1i = nw$t1i, x2i = nw$x2i, t2i = nw$t2i))
}
zi <- list(x1i = c(0, 2, 0, 9), t1i = c(100, 150, 80, 400), x2i = c(3, 0, 0, 14), t2i = c(110, 140, 90, 390))
for (m in c("IRR", "IRD", "IRSD")) measure_case("zero_rate_pairs", m, zi, pool = FALSE)
measure_case("zero_rate_pairs", "IRR", zi, list(drop00 = TRUE), pool = FALSE)
measure_case("zero_rate_pairs", "IRR", zi, list(to = "all"), pool = FALSE)

# --- correlations: COR, UCOR, ZCOR --------------------------------------------------------
mo <- dat.molloy2014
for (m in c("COR", "UCOR", "ZCOR")) measure_case("molloy2014", m, list(ri = mo$ri, ni = mo$ni))
md <- dat.mcdaniel1994
md <- md[!is.na(md$ri) & !is.na(md$ni), ][1:40, ]
for (m in c("COR", "UCOR", "ZCOR")) measure_case("mcdaniel1994", m, list(ri = md$ri, ni = md$ni))
measure_case("molloy2014", "UCOR", list(ri = mo$ri, ni = mo$ni), list(vtype = "UB"), pool = FALSE)
measure_case("molloy2014", "COR", list(ri = mo$ri, ni = mo$ni), list(vtype = "AV"), pool = FALSE)
sc <- list(ri = c(-0.45, 0.9, 0.02, 0.61, -0.05), ni = c(6, 12, 250, 5, 30))
for (m in c("COR", "UCOR", "ZCOR")) measure_case("small_n_correlations", m, sc, pool = FALSE)

# --- paired designs and change scores: MC, SMCC, SMCR, SMCRH -----------------------------
set.seed(20261201)
k <- 12
pp <- list(m1i = round(rnorm(k, 52, 6), 1), m2i = round(rnorm(k, 48, 6), 1),
           sd1i = round(runif(k, 6, 14), 1), sd2i = round(runif(k, 6, 14), 1),
           ni = sample(c(4, 8:120), k), ri = round(runif(k, 0.2, 0.9), 2))
for (m in c("MC", "SMCC", "SMCR", "SMCRH")) measure_case("random_prepost", m, pp)
measure_case("random_prepost", "SMCC", pp, list(vtype = "LS2"), pool = FALSE)
measure_case("random_prepost", "SMCR", pp, list(vtype = "LS2"), pool = FALSE)

# --- single means: MN, MNLN --------------------------------------------------------------
cu <- dat.curtis1998[1:30, ]
for (m in c("MN", "MNLN")) measure_case("curtis1998_arm1", m, list(mi = cu$m1i, sdi = cu$sd1i, ni = cu$n1i))
se <- dat.senn2013[!is.na(dat.senn2013$mi), ]
measure_case("senn2013", "MN", list(mi = se$mi, sdi = se$sdi, ni = se$ni))

# --- variability ratios: VR, CVR ----------------------------------------------------------
cv <- list(m1i = cu$m1i, sd1i = cu$sd1i, n1i = cu$n1i, m2i = cu$m2i, sd2i = cu$sd2i, n2i = cu$n2i)
for (m in c("VR", "CVR")) measure_case("curtis1998", m, cv)
nd <- dat.normand1999
nda <- list(m1i = nd$m1i, sd1i = nd$sd1i, n1i = nd$n1i, m2i = nd$m2i, sd2i = nd$sd2i, n2i = nd$n2i)
for (m in c("VR", "CVR")) measure_case("normand1999", m, nda)

doc <- list(
  generator = "tests/analysis/stats/reference/make_reference_measures.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  note = paste("yi/vi straight from escalc (NA where metafor gives NA);",
               "pool cases use the studies with finite yi and vi > 0."),
  cases = cases
)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = FALSE),
           out_file)
cat("wrote", length(cases), "cases to", out_file, "\n")

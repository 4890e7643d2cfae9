# Reference values for Begg and Mazumdar's rank correlation test (metafor's ranktest).
#
#   Rscript tests/analysis/stats/reference/make_reference_ranktest.R
#
# writes metafor_ranktest.json next to this script; the tests read only the JSON.
# metafor's ranktest calls cor.test(method = "kendall", exact = TRUE): the exact null
# distribution whenever there are no ties (R computes it up to k = 170; from k = 171 on the
# permutation counts overflow and R returns NaN, which is stored as null), and the
# tie-corrected normal approximation without continuity correction when there are ties.

suppressMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
out_file <- file.path(here, "metafor_ranktest.json")

num <- function(x) if (is.null(x) || length(x) == 0) NA else unname(as.numeric(x))
cases <- list()
add <- function(name, yi, vi) {
  r <- suppressWarnings(ranktest(yi, vi))
  cases[[length(cases) + 1]] <<- list(
    kind = "ranktest", dataset = name, input = list(yi = yi, vi = vi),
    expected = list(tau = num(r$tau), pval = num(r$pval)))
}

set.seed(20261201)
# No ties, k from 3 to 170, with and without funnel asymmetry (small p-values too).
for (k in c(3, 4, 5, 8, 12, 20, 33, 49, 50, 51, 75, 100, 101, 120, 150, 170)) {
  vi <- runif(k, 0.01, 0.5)
  add(sprintf("null_k%d", k), rnorm(k, 0.2, sqrt(vi + 0.05)), vi)
  vi <- runif(k, 0.01, 0.5)
  add(sprintf("asymmetric_k%d", k), rnorm(k, 0.2, sqrt(vi)) + 1.5 * sqrt(vi), vi)
}
# k = 120 with p close to 0.2, as in the finding (0.2155 by the normal approximation).
for (i in 1:200) {
  vi <- runif(120, 0.01, 0.5); yi <- rnorm(120, 0.2, sqrt(vi)) + 0.12 * sqrt(vi)
  if (abs(suppressWarnings(ranktest(yi, vi))$pval - 0.2) < 0.02) break
}
add("p_near_0.2_k120", yi, vi)
# Ties in the variances (rounded), and in both the deviates and the variances.
vi <- round(runif(40, 0.01, 0.5), 2); add("ties_vi_k40", rnorm(40, 0, sqrt(vi)), vi)
vi <- round(runif(15, 0.05, 0.3), 1); add("ties_vi_k15", rnorm(15, 0, sqrt(vi)), vi)
vi <- round(runif(300, 0.01, 0.5), 2); add("ties_vi_k300", rnorm(300, 0, sqrt(vi)) + sqrt(vi), vi)
# k >= 171: R's exact p is NaN (overflow); stored so the test can show we stay exact.
vi <- runif(200, 0.01, 0.5); add("null_k200", rnorm(200, 0.2, sqrt(vi + 0.05)), vi)
# All variances equal: Kendall's tau is undefined (NA in R).
add("equal_vi_k6", c(0.1, 0.3, -0.2, 0.5, 0.0, 0.2), rep(0.04, 6))

doc <- list(
  generator = "tests/analysis/stats/reference/make_reference_ranktest.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  cases = cases
)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = FALSE),
           out_file)
cat("wrote", length(cases), "cases to", out_file, "\n")

# Reference values for the three-level model (analysis.stats.pool_multilevel), computed with
# metafor's rma.mv(yi, vi, random = ~ 1 | study/es) and, for the cluster-robust results,
# robust(fit, cluster = study, clubSandwich = TRUE) (CR2 with Satterthwaite degrees of freedom).
#
#   Rscript tests/analysis/stats/reference/make_multilevel_reference.R
#
# writes multilevel_reference.json next to this script; the tests read only the JSON.

suppressMessages({
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
out_file <- file.path(here, "multilevel_reference.json")
num <- function(x) if (is.null(x) || length(x) == 0) NA else unname(as.numeric(x))

# Multilevel I^2 as in the metafor documentation (Cheung 2014; Nakagawa & Santos 2012):
# each variance component over the total of the components and the "typical" sampling variance.
i2_split <- function(res) {
  W <- diag(1 / res$vi)
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  100 * res$sigma2 / (sum(res$sigma2) + (res$k - res$p) / sum(diag(P)))
}

cases <- list()
add_fits <- function(name, yi, vi, study) {
  es <- ave(seq_along(yi), study, FUN = seq_along)
  for (method in c("REML", "ML")) {
    # A tighter optimiser tolerance than the default where nlminb reaches it.
    fit <- tryCatch(
      rma.mv(yi, vi, random = ~ 1 | study / es, method = method,
             control = list(rel.tol = 1e-10, iter.max = 10000, eval.max = 10000)),
      error = function(e) rma.mv(yi, vi, random = ~ 1 | study / es, method = method))
    i2 <- i2_split(fit)
    out <- list(
      k = fit$k, n_studies = length(unique(study)), estimate = num(fit$beta), se = num(fit$se),
      zval = num(fit$zval), pval = num(fit$pval), ci_lb = num(fit$ci.lb), ci_ub = num(fit$ci.ub),
      sigma2_between = num(fit$sigma2[1]), sigma2_within = num(fit$sigma2[2]),
      i2_between = num(i2[1]), i2_within = num(i2[2]),
      q = num(fit$QE), q_df = fit$k - fit$p, q_pval = num(fit$QEp), loglik = num(logLik(fit))
    )
    rob <- robust(fit, cluster = study, clubSandwich = TRUE)
    robust_out <- list(
      se = num(rob$se), tval = num(rob$zval), df = num(rob$ddf), pval = num(rob$pval),
      ci_lb = num(rob$ci.lb), ci_ub = num(rob$ci.ub)
    )
    cases[[length(cases) + 1]] <<- list(
      name = name, method = method,
      inputs = list(yi = num(yi), vi = num(vi), study = as.character(study)),
      expected = out, robust = robust_out
    )
  }
}

data(dat.konstantopoulos2011)
d <- dat.konstantopoulos2011
add_fits("konstantopoulos2011", d$yi, d$vi, d$district)

data(dat.assink2016)
d <- dat.assink2016
add_fits("assink2016", d$yi, d$vi, d$study)

# A simulated review with 1,000 effect sizes in 100 studies of unequal size.
set.seed(20261201)
sizes <- sample(1:19, 100, replace = TRUE)
sizes <- round(sizes * 1000 / sum(sizes)); sizes[1] <- sizes[1] + 1000 - sum(sizes)
study <- rep(seq_along(sizes), sizes)
u <- rnorm(100, 0, sqrt(0.04))[study]
w <- rnorm(length(study), 0, sqrt(0.02))
vi <- runif(length(study), 0.005, 0.2)
yi <- 0.3 + u + w + rnorm(length(study), 0, sqrt(vi))
add_fits("simulated_1000_in_100", yi, vi, study)

# Little heterogeneity within studies (a component at or near its bound of zero).
set.seed(7)
study <- rep(1:12, times = c(1, 2, 3, 4, 2, 3, 5, 2, 1, 3, 4, 2))
vi <- runif(length(study), 0.02, 0.1)
yi <- 0.1 + rnorm(12, 0, 0.3)[study] + rnorm(length(study), 0, sqrt(vi))
add_fits("no_within_heterogeneity", yi, vi, study)

writeLines(toJSON(list(
  metafor = as.character(packageVersion("metafor")),
  clubSandwich = as.character(packageVersion("clubSandwich")),
  cases = cases
), auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), out_file)

# Reference values for tests/analysis/stats, computed with R's metafor.
#
#   Rscript tests/analysis/stats/reference/make_reference.R
#
# writes metafor_reference.json next to this script. The tests read only the JSON, so
# they never need R. Generated with Debian's r-cran-metafor (version recorded in the JSON).
# Every case stores its inputs, so a test can recompute it without this script.

suppressMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
out_file <- file.path(here, "metafor_reference.json")

cases <- list()
add_case <- function(case) cases[[length(cases) + 1]] <<- case
num <- function(x) if (is.null(x) || length(x) == 0) NA else unname(as.numeric(x))

# --- helpers -------------------------------------------------------------------------
fit_out <- function(res, qp = TRUE) {
  pr <- predict(res)
  o <- list(
    k = res$k, estimate = num(res$beta), se = num(res$se), stat = num(res$zval),
    pval = num(res$pval), ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub),
    pi_lb = num(if (is.null(pr$pi.lb)) pr$ci.lb else pr$pi.lb),
    pi_ub = num(if (is.null(pr$pi.ub)) pr$ci.ub else pr$pi.ub),
    tau2 = num(res$tau2), tau2_se = num(res$se.tau2), i2 = num(res$I2), h2 = num(res$H2),
    q = num(res$QE), q_pval = num(res$QEp), weights = num(weights(res))
  )
  if (qp && !is.element(res$method, c("FE", "EE", "CE")) && res$k > 1) {
    ci <- confint(res)$random
    o$tau2_ci <- num(ci["tau^2", 2:3]); o$i2_ci <- num(ci["I^2(%)", 2:3]); o$h2_ci <- num(ci["H^2", 2:3])
    # Same interval solved to a tight tolerance (metafor's default uniroot tol is 1.2e-4).
    ci <- confint(res, control = list(tol = 1e-12))$random
    o$tau2_ci_tight <- num(ci["tau^2", 2:3]); o$i2_ci_tight <- num(ci["I^2(%)", 2:3])
    o$h2_ci_tight <- num(ci["H^2", 2:3])
  }
  o
}

methods <- c("FE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")
pool_cases <- function(name, yi, vi, measure = NA) {
  for (m in methods) for (tst in c("z", "knha")) {
    res <- try(suppressWarnings(rma(yi, vi, method = m, test = tst)), silent = TRUE)
    if (inherits(res, "try-error")) next
    out <- fit_out(res)
    if (m == "PM") {
      tight <- suppressWarnings(rma(yi, vi, method = m, test = tst, control = list(tol = 1e-12)))
      out$tau2_tight <- num(tight$tau2); out$estimate_tight <- num(tight$beta)
    }
    add_case(list(kind = "pool", dataset = name, measure = measure, method = m, test = tst,
                  input = list(yi = yi, vi = vi), expected = out))
  }
}

escalc_case <- function(name, measure, args, extra = list()) {
  es <- do.call(escalc, c(list(measure = measure), args, extra))
  add_case(list(kind = "escalc", dataset = name, measure = measure, params = extra,
                input = args, expected = list(yi = num(es$yi), vi = num(es$vi))))
  invisible(es)
}

tables <- function(d) list(ai = d$ai, bi = d$n1i - d$ai, ci = d$ci, di = d$n2i - d$ci)

mh_cases <- function(name, tab) {
  for (m in c("OR", "RR", "RD")) {
    res <- suppressWarnings(rma.mh(ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di, measure = m))
    o <- list(k = res$k, estimate = num(res$beta), se = num(res$se), stat = num(res$zval),
              pval = num(res$pval), ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub),
              q = num(res$QE), q_pval = num(res$QEp), q_df = res$k.yi - 1, i2 = num(res$I2),
              h2 = num(res$H2), weights = num(weights(res)))
    # Cochran-Mantel-Haenszel test (metafor 3.x stores it as MH; CO is Cochran's variant)
    if (m == "OR") { o$cmh <- num(res$MH); o$cmh_pval <- num(res$MHp) }
    add_case(list(kind = "mh", dataset = name, measure = m, input = tab, expected = o))
  }
  res <- suppressWarnings(rma.peto(ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di))
  add_case(list(kind = "peto", dataset = name, measure = "PETO", input = tab,
                expected = list(k = res$k, estimate = num(res$beta), se = num(res$se),
                                stat = num(res$zval), pval = num(res$pval), ci_lb = num(res$ci.lb),
                                ci_ub = num(res$ci.ub), q = num(res$QE), q_pval = num(res$QEp),
                                q_df = res$k.yi - 1, i2 = num(res$I2), h2 = num(res$H2),
                                weights = num(weights(res)))))
}

# --- BCG vaccine (dat.bcg) -------------------------------------------------------------
bcg <- dat.bcg
bcg_tab <- list(ai = bcg$tpos, bi = bcg$tneg, ci = bcg$cpos, di = bcg$cneg)
for (m in c("RR", "OR", "RD", "PETO")) escalc_case("bcg", m, bcg_tab)
es <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
pool_cases("bcg_rr", es$yi, es$vi, "RR")
es_or <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
pool_cases("bcg_or", es_or$yi, es_or$vi, "OR")
es_rd <- escalc("RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
for (m in c("FE", "DL", "REML")) {
  add_case(list(kind = "pool", dataset = "bcg_rd", measure = "RD", method = m, test = "z",
                input = list(yi = es_rd$yi, vi = es_rd$vi),
                expected = fit_out(rma(es_rd$yi, es_rd$vi, method = m))))
}
mh_cases("bcg", bcg_tab)

for (m in c("REML", "DL", "FE")) for (tst in c("z", "knha")) {
  res <- suppressWarnings(rma(es$yi, es$vi, method = m, test = tst))
  l1 <- leave1out(res)
  add_case(list(kind = "leave1out", dataset = "bcg_rr", method = m, test = tst,
                input = list(yi = es$yi, vi = es$vi),
                expected = list(estimate = num(l1$estimate), se = num(l1$se), pval = num(l1$pval),
                                ci_lb = num(l1$ci.lb), ci_ub = num(l1$ci.ub), q = num(l1$Q),
                                q_pval = num(l1$Qp), tau2 = num(l1$tau2), i2 = num(l1$I2),
                                h2 = num(l1$H2))))
  cu <- cumul(res, order = bcg$year)
  add_case(list(kind = "cumul", dataset = "bcg_rr", method = m, test = tst,
                input = list(yi = es$yi, vi = es$vi, order = bcg$year),
                expected = list(estimate = num(cu$estimate), se = num(cu$se), ci_lb = num(cu$ci.lb),
                                ci_ub = num(cu$ci.ub), q = num(cu$Q), tau2 = num(cu$tau2),
                                i2 = num(cu$I2))))
}

# Subgroups by allocation: separate tau2 per subgroup and a common tau2.
for (m in c("REML", "DL", "FE")) for (tst in c("z", "knha")) {
  groups <- as.character(bcg$alloc)
  names_g <- unique(groups)
  sub <- list()
  for (g in names_g) {
    r <- suppressWarnings(rma(es$yi, es$vi, method = m, test = tst, subset = groups == g))
    sub[[g]] <- list(k = r$k, estimate = num(r$beta), se = num(r$se), tau2 = num(r$tau2),
                     q = num(r$QE), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub))
  }
  est <- sapply(sub, function(s) s$estimate); sei <- sapply(sub, function(s) s$se)
  qb <- rma(est, sei = sei, mods = ~ factor(names_g), method = "FE")
  exp <- list(subgroups = sub, q_between = num(qb$QM), q_between_pval = num(qb$QMp),
              q_between_df = length(names_g) - 1)
  if (m != "FE") {
    common <- suppressWarnings(rma(es$yi, es$vi, mods = ~ factor(groups, levels = names_g),
                                   method = m, test = tst))
    exp$common <- list(tau2 = num(common$tau2), qm = num(common$QM), qm_pval = num(common$QMp),
                       qe = num(common$QE))
  }
  add_case(list(kind = "subgroups", dataset = "bcg_rr_alloc", method = m, test = tst,
                input = list(yi = es$yi, vi = es$vi, groups = groups), expected = exp))
}

# Meta-regression on latitude and year.
for (m in c("REML", "FE", "DL", "ML", "PM")) for (tst in c("z", "knha")) {
  r <- suppressWarnings(rma(es$yi, es$vi, mods = ~ ablat + year, data = bcg, method = m, test = tst))
  add_case(list(kind = "metareg", dataset = "bcg_rr", method = m, test = tst,
                input = list(yi = es$yi, vi = es$vi, X = cbind(bcg$ablat, bcg$year)),
                expected = list(beta = num(r$beta), se = num(r$se), stat = num(r$zval),
                                pval = num(r$pval), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub),
                                tau2 = num(r$tau2), tau2_se = num(r$se.tau2), i2 = num(r$I2), h2 = num(r$H2),
                                r2 = num(r$R2), qe = num(r$QE), qe_pval = num(r$QEp),
                                qm = num(r$QM), qm_pval = num(r$QMp))))
}

regtest_case <- function(name, yi, vi, ni = NULL) {
  for (model in c("rma", "lm")) for (pred in c("sei", "vi", "ninv")) {
    if (pred == "ninv" && is.null(ni)) next
    r <- regtest(yi, vi, ni = ni, model = model, predictor = pred)
    add_case(list(kind = "regtest", dataset = name, model = model, predictor = pred,
                  input = list(yi = yi, vi = vi, ni = ni),
                  expected = list(stat = num(r$zval), pval = num(r$pval), df = num(r$dfs),
                                  limit = num(r$est), limit_ci_lb = num(r$ci.lb),
                                  limit_ci_ub = num(r$ci.ub))))
  }
  r <- ranktest(yi, vi)
  add_case(list(kind = "ranktest", dataset = name, input = list(yi = yi, vi = vi),
                expected = list(tau = num(r$tau), pval = num(r$pval))))
}
regtest_case("bcg_rr", es$yi, es$vi, ni = with(bcg, tpos + tneg + cpos + cneg))

trimfill_case <- function(name, yi, vi, method, estimator = "L0") {
  r <- suppressWarnings(rma(yi, vi, method = method))
  tf <- trimfill(r, estimator = estimator)
  add_case(list(kind = "trimfill", dataset = name, method = method, estimator = estimator,
                input = list(yi = yi, vi = vi),
                expected = list(k0 = tf$k0, k0_se = num(tf$se.k0), side = tf$side,
                                k0_pval = num(tf$p.k0),
                                filled_yi = num(tf$yi[tf$fill]), filled_vi = num(tf$vi[tf$fill]),
                                estimate = num(tf$beta), se = num(tf$se), tau2 = num(tf$tau2),
                                q = num(tf$QE), k = tf$k)))
}
for (m in c("FE", "REML", "DL")) trimfill_case("bcg_rr", es$yi, es$vi, m)
trimfill_case("bcg_rr", es$yi, es$vi, "FE", "R0")

# --- Normand 1999 (continuous) ---------------------------------------------------------
nd <- dat.normand1999
nd_args <- list(m1i = nd$m1i, sd1i = nd$sd1i, n1i = nd$n1i, m2i = nd$m2i, sd2i = nd$sd2i, n2i = nd$n2i)
for (m in c("SMD", "MD", "ROM")) escalc_case("normand1999", m, nd_args)
escalc_case("normand1999", "MD", nd_args, list(vtype = "HO"))
escalc_case("normand1999", "SMD", nd_args, list(vtype = "UB"))
for (m in c("SMD", "MD", "ROM")) {
  e <- do.call(escalc, c(list(measure = m), nd_args))
  pool_cases(paste0("normand1999_", tolower(m)), e$yi, e$vi, m)
}

# --- Hine 1989 (RD) --------------------------------------------------------------------
hi <- dat.hine1989
hi_tab <- tables(hi)
escalc_case("hine1989", "RD", hi_tab)
e <- escalc("RD", ai = hi_tab$ai, bi = hi_tab$bi, ci = hi_tab$ci, di = hi_tab$di)
pool_cases("hine1989_rd", e$yi, e$vi, "RD")
mh_cases("hine1989", hi_tab)

# --- Hackshaw 1998 (generic inverse variance from OR and CI) ---------------------------
hk <- dat.hackshaw1998
yi_hk <- log(hk$or); vi_hk <- ((log(hk$or.ub) - log(hk$or.lb)) / (2 * qnorm(0.975)))^2
add_case(list(kind = "generic", dataset = "hackshaw1998",
              input = list(estimate = hk$or, ci_lb = hk$or.lb, ci_ub = hk$or.ub),
              expected = list(yi = yi_hk, vi = vi_hk, yi_metadat = hk$yi, vi_metadat = hk$vi)))
pool_cases("hackshaw1998", yi_hk, vi_hk, "OR")

# --- Yusuf 1985 table 6 (Peto, double-zero tables) -------------------------------------
yu <- dat.yusuf1985[dat.yusuf1985$table == "6", ]
yu <- yu[complete.cases(yu[, c("ai", "n1i", "ci", "n2i")]), ]
yu_tab <- tables(yu)
for (m in c("OR", "RR", "RD", "PETO")) escalc_case("yusuf1985", m, yu_tab)
escalc_case("yusuf1985", "PETO", yu_tab, list(add = 0))
mh_cases("yusuf1985", yu_tab)

# --- Egger 2001 (magnesium) ------------------------------------------------------------
eg <- dat.egger2001
eg_tab <- tables(eg)
escalc_case("egger2001", "OR", eg_tab)
mh_cases("egger2001", eg_tab)
e <- escalc("OR", ai = eg_tab$ai, bi = eg_tab$bi, ci = eg_tab$ci, di = eg_tab$di)
pool_cases("egger2001_or", e$yi, e$vi, "OR")
regtest_case("egger2001_all", e$yi, e$vi, ni = eg$n1i + eg$n2i)
no_isis <- eg$study != "ISIS-4"
regtest_case("egger2001_no_isis4", e$yi[no_isis], e$vi[no_isis], ni = (eg$n1i + eg$n2i)[no_isis])
trimfill_case("egger2001_or", e$yi, e$vi, "REML")
trimfill_case("egger2001_or", e$yi, e$vi, "FE")

# --- CLASP (DerSimonian & Kacker 2007) --------------------------------------------------
clasp <- list(ai = c(5, 5, 12, 69, 9, 313), n1i = c(156, 303, 565, 1570, 103, 4659),
              ci = c(8, 17, 9, 94, 11, 352), n2i = c(74, 303, 477, 1565, 105, 4650))
clasp_tab <- tables(clasp)
escalc_case("clasp", "OR", clasp_tab)
e <- escalc("OR", ai = clasp_tab$ai, bi = clasp_tab$bi, ci = clasp_tab$ci, di = clasp_tab$di)
pool_cases("clasp_or", e$yi, e$vi, "OR")

# --- Raudenbush 1985 (teacher expectancy) ----------------------------------------------
ra <- dat.raudenbush1985
pool_cases("raudenbush1985", ra$yi, ra$vi, "SMD")

# --- random data: k = 2, zero cells, tau2 = 0 boundaries, larger k ---------------------
set.seed(20240601)
for (k in c(2, 3, 5, 20, 60)) {
  tau <- c(0, 0.3)[1 + (k %% 2)]
  vi <- runif(k, 0.01, 0.5)
  yi <- rnorm(k, 0.2, sqrt(vi + tau^2))
  pool_cases(sprintf("random_k%d", k), yi, vi)
}
# Homogeneous data: Q well below its df, so tau2 is truncated at 0 and the QP CI is null.
vi <- runif(8, 0.05, 0.2); yi <- 0.1 + rnorm(8, 0, 0.2 * sqrt(vi))
pool_cases("random_tau2_zero", yi, vi)
# Identical estimates.
pool_cases("random_equal_yi", rep(0.3, 4), c(0.1, 0.2, 0.15, 0.3))

# Sparse 2x2 tables with single- and double-zero cells.
k <- 10
n1 <- sample(10:40, k, replace = TRUE); n2 <- sample(10:40, k, replace = TRUE)
a <- rbinom(k, n1, 0.05); c <- rbinom(k, n2, 0.1)
a[1] <- 0; c[1] <- 0; a[2] <- 0; c[3] <- 0; a[4] <- n1[4]
zt <- list(ai = a, bi = n1 - a, ci = c, di = n2 - c)
for (m in c("RR", "OR", "RD", "PETO")) escalc_case("random_zero_cells", m, zt)
escalc_case("random_zero_cells", "RD", zt, list(to = "all"))
escalc_case("random_zero_cells", "OR", zt, list(drop00 = TRUE))
mh_cases("random_zero_cells", zt)
e <- escalc("OR", ai = zt$ai, bi = zt$bi, ci = zt$ci, di = zt$di)
pool_cases("random_zero_cells_or", e$yi, e$vi, "OR")

# Random continuous outcomes, including small arms (exact Hedges correction matters).
k <- 12
rc <- list(m1i = round(rnorm(k, 10, 2), 2), sd1i = round(runif(k, 1, 4), 2), n1i = sample(3:80, k),
           m2i = round(rnorm(k, 9, 2), 2), sd2i = round(runif(k, 1, 4), 2), n2i = sample(3:80, k))
for (m in c("SMD", "MD", "ROM")) escalc_case("random_continuous", m, rc)
escalc_case("random_continuous", "SMD", rc, list(vtype = "UB"))

doc <- list(
  generator = "tests/analysis/stats/reference/make_reference.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  note = paste("ROM in metafor < 5.0 has no bias correction; compare with correct=False.",
               "escalc double-zero studies are kept here (metafor drop00=FALSE)."),
  cases = cases
)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = FALSE),
           out_file)
cat("wrote", length(cases), "cases to", out_file, "\n")

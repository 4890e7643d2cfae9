# Reference values for screening/agreement.py, written to agreement_reference.json.
#
# Packages: irr 0.84.1 (kappa2), irrCAC 1.0 (gwet.ac1.raw, bp.coeff.raw,
# kappa2.table), vcd 1.4-11 (Kappa: kappa and its large-sample ASE of Fleiss, Cohen & Everitt
# 1969), psych 2.2.9 (cohen.kappa: the same variance and a Wald CI), jsonlite.
# vcd and psych come from Debian (apt-get install r-cran-vcd r-cran-psych); irr and irrCAC are
# not packaged there: install.packages(c("irr", "irrCAC")), or R CMD INSTALL their CRAN sources.
# Run from the repository root:
#   Rscript tests/screening/reference/agreement_reference.R
# Each case is a contingency table: rows are reviewer A's votes, columns reviewer B's, in the
# order of `categories`; the Python tests rebuild the vote pairs from it.
suppressPackageStartupMessages({
  library(irr)
  library(irrCAC)
  library(vcd)
  library(psych)
  library(jsonlite)
})

cases <- list(
  # Cohen (1960), Educ Psychol Meas 20:37-46, Table 1: 200 subjects, 3 categories,
  # po = .70, pc = .41, kappa = .492.
  list(name = "cohen_1960_table_1", categories = c("1", "2", "3"),
       table = rbind(c(88, 14, 18), c(10, 40, 10), c(2, 6, 12))),
  # Feinstein & Cicchetti (1990), J Clin Epidemiol 43:543-549: the same po = .85 with
  # balanced and unbalanced marginals, kappa .70 vs .32; the paradox that led Byrt,
  # Bishop & Carlin (1993), J Clin Epidemiol 46:423-429, to PABAK = 2 po - 1 = .70 for both.
  list(name = "feinstein_cicchetti_1990_balanced", categories = c("yes", "no"),
       table = rbind(c(40, 9), c(6, 45))),
  list(name = "feinstein_cicchetti_1990_unbalanced", categories = c("yes", "no"),
       table = rbind(c(80, 10), c(5, 5))),
  # Gwet, Handbook of Inter-Rater Reliability (4th ed., 2014), as shipped in irrCAC
  # (cont3x3abstractors): 100 pregnant women classified by two abstractors.
  list(name = "gwet_handbook_abstractors", categories = c("Ectopic", "AIU", "NIU"),
       table = unname(as.matrix(cont3x3abstractors))),
  # A screening stage in which nobody used "maybe": kappa ignores the empty category, PABAK
  # and AC1 count it (k = q = 3) because it was on the scale.
  list(name = "screening_maybe_unused", categories = c("include", "exclude", "maybe"),
       table = rbind(c(30, 5, 0), c(4, 161, 0), c(0, 0, 0))),
  list(name = "screening_all_categories", categories = c("include", "exclude", "maybe"),
       table = rbind(c(21, 3, 4), c(2, 140, 6), c(5, 7, 12))),
  # Both reviewers excluded everything: kappa is 0/0 (NaN in R), AC1 and PABAK are 1.
  list(name = "screening_all_exclude", categories = c("include", "exclude", "maybe"),
       table = rbind(c(0, 0, 0), c(0, 25, 0), c(0, 0, 0))),
  # Total disagreement on two categories.
  list(name = "total_disagreement", categories = c("include", "exclude"),
       table = rbind(c(0, 7), c(3, 0)))
)

# Gwet's Handbook, Ben and Gerry (irrCAC::cac.ben.gerry), keeping the 11 units both rated.
bg <- cac.ben.gerry[cac.ben.gerry$Gerry != "", c("Ben", "Gerry")]
bg_levels <- c("a", "b", "c", "d", "e")
cases[[length(cases) + 1]] <- list(
  name = "gwet_handbook_ben_gerry", categories = bg_levels,
  table = unclass(table(factor(bg$Ben, bg_levels), factor(bg$Gerry, bg_levels)))
)

na_to_null <- function(x) if (is.na(x) || is.nan(x)) NULL else unname(x)

ratings_of <- function(tab, categories) {
  a <- character(0)
  b <- character(0)
  for (i in seq_along(categories)) for (j in seq_along(categories)) {
    a <- c(a, rep(categories[i], tab[i, j]))
    b <- c(b, rep(categories[j], tab[i, j]))
  }
  data.frame(a = a, b = b, stringsAsFactors = FALSE)
}

out <- lapply(cases, function(case) {
  tab <- matrix(case$table, nrow = length(case$categories))
  ratings <- ratings_of(tab, case$categories)
  k2 <- kappa2(ratings)
  vk <- Kappa(tab)
  pk <- suppressWarnings(cohen.kappa(tab))
  ac1 <- gwet.ac1.raw(ratings, categ.labels = case$categories)$est
  ac1_observed <- gwet.ac1.raw(ratings)$est
  bp <- bp.coeff.raw(ratings, categ.labels = case$categories)$est
  list(
    name = case$name,
    categories = case$categories,
    table = lapply(seq_len(nrow(tab)), function(i) unname(tab[i, ])),
    n = nrow(ratings),
    # irr::agree returns 200 when no record is agreed on (apply() then yields a matrix, not
    # a list), so the observed agreement is taken from irrCAC instead.
    percent_agreement = 100 * ac1$pa,
    kappa = na_to_null(k2$value),
    kappa_se = na_to_null(vk$Unweighted[["ASE"]]),
    kappa_ci_lb_psych = na_to_null(pk$confid[1, 1]),
    kappa_ci_ub_psych = na_to_null(pk$confid[1, 3]),
    pabak = na_to_null(bp$coeff.val),
    ac1 = na_to_null(ac1$coeff.val),
    ac1_observed_categories_only = na_to_null(ac1_observed$coeff.val)
  )
})

meta <- list(
  generated_by = "tests/screening/reference/agreement_reference.R",
  r_version = R.version.string,
  packages = lapply(c(irr = "irr", irrCAC = "irrCAC", vcd = "vcd", psych = "psych"),
                    function(p) as.character(packageVersion(p))),
  note = "irrCAC rounds coeff.val (ac1, pabak) to 5 decimals; psych clips the CI to [-1, 1]",
  cases = out
)
write_json(meta, "tests/screening/reference/agreement_reference.json", auto_unbox = TRUE,
           digits = NA, pretty = TRUE, null = "null")

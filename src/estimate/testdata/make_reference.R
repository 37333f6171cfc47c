suppressMessages(library(survey))
f17 <- function(x) ifelse(is.na(x), "f64::NAN", ifelse(is.infinite(x), ifelse(x>0,"f64::INFINITY","f64::NEG_INFINITY"), sprintf("%.17g", x)))
vec <- function(x) paste0("&[", paste(f17(x), collapse=", "), "]")
cat("// ---- A: qt\n")
for (d in c(1, 2.5, 7, 14, 199, 1e5, 4e5, 1e6, Inf)) for (lv in c(0.95, 0.9, 0.99)) {
  cat(sprintf("(%s, %s, %s), // qt(1-(1-%g)/2, %g)\n", if (is.infinite(d)) "None" else paste0("Some(", f17(d), ")"), f17(lv), f17(qt(1-(1-lv)/2, d)), lv, d))
}
cat("// ---- B: qbeta\n")
for (ab in list(c(0.5, 3), c(2, 5), c(14.2, 0.9), c(0.02, 40), c(250.5, 13000.25), c(3.5, 2e6), c(1e6, 2.5e6), c(5e-3, 5))) for (p in c(0.025, 0.975, 0.5)) {
  cat(sprintf("(%s, %s, %s, %s), // qbeta(%g, %g, %g)\n", f17(p), f17(ab[1]), f17(ab[2]), f17(qbeta(p, ab[1], ab[2])), p, ab[1], ab[2]))
}
for (ab in list(c(0.5, 3, 0.1), c(2, 5, 0.3), c(250.5, 13000.25, 0.02), c(3.5, 2e6, 1e-6), c(1e6, 2.5e6, 0.2857))) {
  cat(sprintf("(%s, %s, %s, %s, %s), // pbeta(%g, %g, %g) both tails\n", f17(ab[3]), f17(ab[1]), f17(ab[2]), f17(pbeta(ab[3], ab[1], ab[2])), f17(pbeta(ab[3], ab[1], ab[2], lower.tail=FALSE)), ab[3], ab[1], ab[2]))
}
cat("// ---- C: svyciprop on a synthetic stratified cluster design\n")
set.seed(20261122)
nps <- 24
dat <- data.frame(psu = rep(1:nps, times = sample(4:9, nps, replace=TRUE)))
dat$str <- ifelse(dat$psu <= 12, 1, 2)
dat$w <- round(runif(nrow(dat), 5, 40), 2)
dat$y1 <- rbinom(nrow(dat), 1, 0.3)
dat$y2 <- rbinom(nrow(dat), 1, 0.04)
dat$y3 <- rbinom(nrow(dat), 1, 0.93)
dat$x <- round(rgamma(nrow(dat), 3, 0.1))
dat$g <- rep(c(1,2,3), length.out=nrow(dat))
des <- svydesign(id=~psu, strata=~str, weights=~w, data=dat)
cat("// rows", nrow(dat), "degf", degf(des), "\n")
for (v in c("y1","y2","y3")) for (lv in c(0.95, 0.9)) for (dfx in c("design","inf")) {
  fml <- as.formula(paste0("~", v))
  m <- svymean(fml, des)
  p <- coef(m)[[1]]; V <- vcov(m)[1,1]
  wbar <- mean(weights(des)); Wp <- sum(weights(des))/wbar
  for (meth in c("mean","asin","xlogit","beta","logit")) {
    r <- if (dfx == "design") svyciprop(fml, des, method=meth, level=lv) else svyciprop(fml, des, method=meth, level=lv, df=Inf)
    ci <- attr(r, "ci")
    cat(sprintf("Ci { method: \"%s\", p: %s, v: %s, df: %s, level: %s, n_rows: %d, design_df: %s, lo: %s, hi: %s }, // svyciprop(~%s, des, method=\"%s\", level=%g%s)\n",
      meth, f17(p), f17(V), if (dfx=="design") paste0("Some(", f17(degf(des)), ")") else "None", f17(lv), nrow(dat), f17(degf(des)), f17(ci[1]), f17(ci[2]), v, meth, lv, if (dfx=="design") "" else ", df=Inf"))
  }
}
cat("// ---- C2: domain g==2 via svyby (beta uses the domain's nrow and degf)\n")
for (v in c("y1","y2")) {
  fml <- as.formula(paste0("~", v))
  sub <- subset(des, g == 2)
  m <- svymean(fml, sub); p <- coef(m)[[1]]; V <- vcov(m)[1,1]
  for (meth in c("beta","asin","xlogit")) {
    r <- svyciprop(fml, sub, method=meth)
    ci <- attr(r, "ci")
    cat(sprintf("Ci { method: \"%s\", p: %s, v: %s, df: Some(%s), level: 0.95, n_rows: %d, design_df: %s, lo: %s, hi: %s }, // svyciprop(~%s, subset(des, g == 2), method=\"%s\")\n",
      meth, f17(p), f17(V), f17(degf(sub)), nrow(sub), f17(degf(sub)), f17(ci[1]), f17(ci[2]), v, meth))
  }
}
write.csv(dat, "synth.csv", row.names=FALSE)
cat("// ---- D: qrules\n")
set.seed(7)
xs <- list(
  c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5),
  round(rnorm(37, 50, 10)),
  c(2.5, 7.25, 7.25, 7.25, 1, 10, 4)
)
ws <- list(
  c(1, 2, 1, 0.5, 3, 1, 2, 1, 1, 0, 2),
  round(runif(37, 1, 20), 1),
  c(1, 1, 1, 1, 1, 1, 1)
)
for (i in seq_along(xs)) {
  cat(sprintf("// data set %d\n", i))
  cat(sprintf("const X%d: &[f64] = %s;\nconst W%d: &[f64] = %s;\n", i, vec(xs[[i]]), i, vec(ws[[i]])))
  ps <- c(0, 0.01, 0.1, 0.25, 1/3, 0.5, 0.6, 0.75, 0.9, 0.99, 1)
  # add exact cumulative-boundary p for this data
  w0 <- ws[[i]][ws[[i]] > 0]; x0 <- xs[[i]][ws[[i]] > 0]; cw <- cumsum(w0[order(x0)])
  ps <- c(ps, cw[2]/sum(w0), cw[3]/sum(w0), cw[length(cw)-1]/sum(w0))
  for (r in c("math","school","hf1","hf2","hf3","hf4","hf5","hf6","hf7","hf8","hf9")) {
    f <- get(paste0("qrule_", r), asNamespace("survey"))
    vals <- sapply(ps, function(p) f(xs[[i]], ws[[i]], p))
    cat(sprintf("(%d, \"%s\", %s, %s),\n", i, r, vec(ps), vec(vals)))
  }
}
cat("// ---- E: svyquantile Woodruff on the synthetic design\n")
for (it in c("mean","beta","xlogit","asin")) for (r in c("math","school","hf4","hf7","hf8")) for (q in c(0.1, 0.5, 0.9)) {
  res <- svyquantile(~x, des, quantiles=q, ci=TRUE, interval.type=it, qrule=r)[[1]]
  qhat <- unname(res[1, 1])
  m <- svymean(~as.numeric(x <= qhat), des)
  phat <- coef(m)[[1]]; V <- vcov(m)[1,1]
  cat(sprintf("Wq { rule: \"%s\", kind: \"%s\", p: %s, qhat: %s, phat: %s, v: %s, lo: %s, hi: %s, se: %s },\n", r, it, f17(q), f17(qhat), f17(phat), f17(V), f17(res[1,2]), f17(res[1,3]), f17(res[1,4])))
}
cat("// ---- E2: domain g == 1, df Inf, level 0.9\n")
sub <- subset(des, g == 1)
for (it in c("mean","beta","xlogit")) for (r in c("math","hf6")) for (q in c(0.05, 0.5)) {
  res <- svyquantile(~x, sub, quantiles=q, ci=TRUE, interval.type=it, qrule=r, alpha=0.1, df=Inf)[[1]]
  qhat <- unname(res[1, 1])
  m <- svymean(~as.numeric(x <= qhat), sub)
  cat(sprintf("Wq { rule: \"%s\", kind: \"%s\", p: %s, qhat: %s, phat: %s, v: %s, lo: %s, hi: %s, se: %s }, // domain g==1 rows %d degf %s\n", r, it, f17(q), f17(qhat), f17(coef(m)[[1]]), f17(vcov(m)[1,1]), f17(res[1,2]), f17(res[1,3]), f17(res[1,4]), nrow(sub), f17(degf(sub))))
}

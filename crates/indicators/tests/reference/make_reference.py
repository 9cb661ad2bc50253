#!/usr/bin/env python3
"""Reference fixtures for crates/indicators/src/stats.rs, computed by independent implementations.

Writes, next to this script's parent folder, in tests/data/:

- reference_tiny.csv, reference_lognormal.csv, reference_survey.csv: household inputs with the
  columns household, members_14_plus, children_under_14, disposable_income, design_weight;
- reference_expected.csv: name,value rows that the Rust tests in stats.rs compare against
  (relative tolerance 1e-9).

The data sets:

- tiny: five households, computable by hand (the weighted median falls exactly between two
  values, which exercises Eurostat's averaging rule);
- lognormal: 1,000 households, lognormal incomes with a fixed seed, about 3 % zero incomes and
  1 % negative incomes (Eurostat keeps negative incomes as recorded);
- survey: 300 households with decimal design weights, so person weights are not integers.

Independent implementations used (none of them shares code or formula layout with stats.rs):

- Gini: PySAL's `inequality` package (`inequality.gini.Gini`), on households and, for person
  weights, on the person-level data (each household's equivalised income repeated once per
  member). Where weights are not integers (survey), an O(n^2) weighted mean absolute difference,
  sum_i sum_j w_i w_j |x_i - x_j| / (2 W sum_i w_i x_i), checked against `inequality` on the
  integer-weighted data sets first.
- Median and quantiles: numpy.quantile. Person level with integer weights: the person-level
  data with method="averaged_inverted_cdf" (Hyndman & Fan type 2), which is Eurostat's
  definition with unit weights. Decimal weights: numpy's weighted method="inverted_cdf", after
  checking that no cumulative weight equals q*W (the only case where Eurostat averages).
- Poverty rate: share of persons strictly below 0.6 (0.5) x the median, with numpy.
- Intervals: scipy.stats (norm, chi2, binom, poisson) and statsmodels' proportion_confint.

Run with a Python that has numpy, scipy, inequality and statsmodels:

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install numpy scipy inequality statsmodels
    /tmp/refvenv/bin/python crates/indicators/tests/reference/make_reference.py

The output is deterministic for given package versions (recorded in the expected file's header).
"""

from importlib.metadata import version
from pathlib import Path

import numpy as np
from inequality.gini import Gini
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

DATA = Path(__file__).resolve().parent.parent / "data"
COLUMNS = "household,members_14_plus,children_under_14,disposable_income,design_weight"


# ---------------------------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------------------------


def tiny():
    # (members 14+, children <14, household disposable income)
    # OECD scales 1.0, 1.5, 1.8, 1.3, 2.3 -> equivalised 10000, 20000, 12000, 5000, 40000
    # persons 1, 2, 3, 2, 4 (12 in all)
    rows = [(1, 0, 10000), (2, 0, 30000), (2, 1, 21600), (1, 1, 6500), (3, 1, 92000)]
    return [(f"T{i + 1}", a, c, f"{y:.2f}", "1") for i, (a, c, y) in enumerate(rows)]


def household_sizes(rng, n):
    adults = rng.choice([1, 2, 3, 4], size=n, p=[0.35, 0.45, 0.15, 0.05])
    children = rng.choice([0, 1, 2, 3], size=n, p=[0.6, 0.2, 0.15, 0.05])
    return adults, children


def lognormal():
    rng = np.random.default_rng(20240517)
    n = 1000
    adults, children = household_sizes(rng, n)
    scale = 1 + 0.5 * (adults - 1) + 0.3 * children
    income = scale * rng.lognormal(mean=9.9, sigma=0.65, size=n)
    kind = rng.random(n)
    income[kind < 0.03] = 0.0
    losses = kind > 0.99
    income[losses] = -rng.lognormal(mean=8.0, sigma=1.0, size=losses.sum())
    return [
        (f"L{i + 1:04}", int(adults[i]), int(children[i]), f"{income[i]:.2f}", "1")
        for i in range(n)
    ]


def survey():
    rng = np.random.default_rng(7)
    n = 300
    adults, children = household_sizes(rng, n)
    scale = 1 + 0.5 * (adults - 1) + 0.3 * children
    income = scale * rng.lognormal(mean=9.7, sigma=0.8, size=n)
    income[rng.random(n) < 0.02] = 0.0
    design = rng.uniform(50, 400, size=n)
    return [
        (f"S{i + 1:03}", int(adults[i]), int(children[i]), f"{income[i]:.0f}", f"{design[i]:.2f}")
        for i in range(n)
    ]


# ---------------------------------------------------------------------------------------------
# Independent computations
# ---------------------------------------------------------------------------------------------


def oecd_modified(adults, children):
    # Same expression (and floating-point evaluation order) as the Rust function, so that
    # equivalised incomes are bit-identical on both sides.
    if adults == 0:
        return 1 + 0.3 * (children - 1)
    return 1 + 0.5 * (adults - 1) + 0.3 * children


def gini_mad(x, w):
    """Weighted relative mean absolute difference, O(n^2)."""
    diff = np.abs(x[:, None] - x[None, :])
    return float((w[:, None] * w[None, :] * diff).sum() / (2 * w.sum() * (w * x).sum()))


def weighted_quantile_numpy(x, w, q):
    """numpy's weighted inverted CDF; equals Eurostat's definition when no C_j equals q*W."""
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(w[order])
    assert not np.any(np.isclose(cumulative, q * w.sum(), rtol=1e-9, atol=0)), (
        "a cumulative weight equals q*W: Eurostat averages there, numpy's inverted_cdf does not"
    )
    return float(np.quantile(x, q, weights=w, method="inverted_cdf"))


def expected_for(name, rows):
    adults = np.array([r[1] for r in rows])
    children = np.array([r[2] for r in rows])
    income = np.array([float(r[3]) for r in rows])
    design = np.array([float(r[4]) for r in rows])
    scale = np.array([oecd_modified(int(a), int(c)) for a, c in zip(adults, children)])
    eq = income / scale
    persons = adults + children
    integer_weights = np.all(design == 1.0)

    out = {
        f"{name}.households": len(rows),
        f"{name}.persons": float((persons * design).sum()),
        f"{name}.gini_households": float(Gini(eq).g),
        f"{name}.median_households": float(np.median(eq)),
    }
    # The O(n^2) formula agrees with PySAL on households (equal weights).
    assert abs(gini_mad(eq, np.ones_like(eq)) - out[f"{name}.gini_households"]) < 1e-12

    if integer_weights:
        people = np.repeat(eq, persons)  # one row per person
        out[f"{name}.gini_persons"] = float(Gini(people).g)
        assert abs(gini_mad(eq, persons.astype(float)) - out[f"{name}.gini_persons"]) < 1e-12
        for q in (0.2, 0.5, 0.8):
            out[f"{name}.q{round(q * 100)}_persons"] = float(
                np.quantile(people, q, method="averaged_inverted_cdf")
            )
        median = out[f"{name}.q50_persons"]
        for share in (0.6, 0.5):
            threshold = share * median
            out[f"{name}.poverty_threshold_{round(share * 100)}"] = threshold
            out[f"{name}.poverty_rate_{round(share * 100)}"] = float(np.mean(people < threshold))
    else:
        w = persons * design
        out[f"{name}.gini_persons"] = gini_mad(eq, w)
        for q in (0.2, 0.5, 0.8):
            out[f"{name}.q{round(q * 100)}_persons"] = weighted_quantile_numpy(eq, w, q)
        median = out[f"{name}.q50_persons"]
        for share in (0.6, 0.5):
            threshold = share * median
            out[f"{name}.poverty_threshold_{round(share * 100)}"] = threshold
            out[f"{name}.poverty_rate_{round(share * 100)}"] = float(
                w[eq < threshold].sum() / w.sum()
            )
    return out


def funnel_scipy(dist, size, conf, upper_bound):
    """Spiegelhalter (2005) A.1.1: r_p = ppf(p); alpha = (cdf(r_p) - p) / pmf(r_p);
    limit = (r_p - alpha) / size, clamped at 0 (and at upper_bound)."""
    limits = []
    for p in ((1 - conf) / 2, (1 + conf) / 2):
        r = dist.ppf(p)
        alpha = (dist.cdf(r) - p) / dist.pmf(r)
        limits.append(min(upper_bound, max(0.0, (r - alpha) / size)))
    return limits


def intervals():
    out = {}
    for conf in (0.9, 0.95, 0.99, 0.998):
        out[f"z_for/{conf}"] = float(stats.norm.ppf((1 + conf) / 2))
    for s, n, conf in [(0, 25, 0.95), (12, 80, 0.95), (12, 80, 0.998), (499, 1000, 0.95), (40, 40, 0.95)]:
        lower, upper = proportion_confint(s, n, alpha=1 - conf, method="wilson")
        out[f"wilson/{s}/{n}/{conf}/lower"] = float(lower)
        out[f"wilson/{s}/{n}/{conf}/upper"] = float(upper)
    for k in (0, 1, 7, 50, 1234):
        for conf in (0.95, 0.998):
            a = 1 - conf
            lower = 0.0 if k == 0 else stats.chi2.ppf(a / 2, 2 * k) / 2
            upper = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2
            out[f"poisson_exact/{k}/{conf}/lower"] = float(lower)
            out[f"poisson_exact/{k}/{conf}/upper"] = float(upper)
    for p0, n in [(0.15, 20), (0.15, 200), (0.15, 5000), (0.02, 30), (0.6, 1000), (0.5, 123457)]:
        for conf in (0.95, 0.998):
            lower, upper = funnel_scipy(stats.binom(n, p0), n, conf, 1.0)
            out[f"funnel_proportion/{p0}/{n}/{conf}/lower"] = lower
            out[f"funnel_proportion/{p0}/{n}/{conf}/upper"] = upper
    for rate, exposure in [(0.02, 50), (0.02, 1000), (0.02, 250000), (1.5, 3.25), (0.0004, 12000)]:
        for conf in (0.95, 0.998):
            lower, upper = funnel_scipy(stats.poisson(rate * exposure), exposure, conf, np.inf)
            out[f"funnel_rate/{rate}/{exposure}/{conf}/lower"] = lower
            out[f"funnel_rate/{rate}/{exposure}/{conf}/upper"] = upper
    return out


def write_rows(path, rows):
    with open(path, "w", newline="\n") as f:
        f.write(COLUMNS + "\n")
        for row in rows:
            f.write(",".join(str(v) for v in row) + "\n")


def main():
    DATA.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, make in (("tiny", tiny), ("lognormal", lognormal), ("survey", survey)):
        rows = make()
        write_rows(DATA / f"reference_{name}.csv", rows)
        expected.update(expected_for(name, rows))
    expected.update(intervals())

    packages = ", ".join(
        f"{p} {version(p)}" for p in ("numpy", "scipy", "inequality", "statsmodels")
    )
    with open(DATA / "reference_expected.csv", "w", newline="\n") as f:
        f.write("# generated by tests/reference/make_reference.py; do not edit\n")
        f.write(f"# {packages}\n")
        f.write("name,value\n")
        for key, value in expected.items():
            f.write(f"{key},{float(value)!r}\n")


if __name__ == "__main__":
    main()

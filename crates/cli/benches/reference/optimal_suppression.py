#!/usr/bin/env python3
"""Reference for the disclosure benchmark: the optimal secondary-suppression pattern of a table.

This is the "complete" mixed-integer model of cell suppression (Fischetti and Salazar-Gonzalez
2001, "Solving the cell suppression problem on tabular data with linear constraints", Management
Science 47(7)); tau-ARGUS's "Optimal" method solves the same model by branch and cut. Here it is
written out in full and handed to HiGHS (scipy.optimize.milp), which is practical for tables of
a few hundred cells. On a time limit the result is HiGHS's best pattern and its proven lower
bound on the optimum.

Model. x_i = 1 when cell i is suppressed, cost c_i = 1 + w * a_i / max(a), the same costs as
datalab's heuristic (`suppress::Options::value_weight`). For every primary cell p and each
direction (up, down) with a positive protection level there is a copy z of the table's
deviations from the true values a:

    M z = 0                                   (every margin is still the sum of its parts)
    -a_i x_i <= z_i <= U x_i                  (only suppressed cells move; counts stay >= 0;
                                               U is the table's largest value)
    z_p >= upper_p      (up copy)             the attacker cannot rule out a_p + upper_p
    z_p <= -lower_p     (down copy)           the attacker cannot rule out a_p - lower_p

Primaries are suppressed, cells that no output shows are hidden at no cost, locked cells and
structural zeros are never suppressed. A pattern is feasible exactly when every primary's
attacker interval reaches the required levels, which is what `datalab attack` checks.

Input: JSON files written by `cargo bench -p datalab --bench disclosure -- --reference` with
keys name, value, shown, fixed, constraints ([total, [parts...]]), primary ([cell, lower,
upper]), value_weight. Output: one JSON object per input on stdout (one per line) with name,
status, secondary (cells), objective, bound, seconds.

Usage: python3 optimal_suppression.py [--time-limit SECONDS] TABLE.json...
Needs numpy and scipy >= 1.9 (pip install scipy).
"""

import argparse
import json
import sys
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix


def solve(table, time_limit):
    value = np.asarray(table["value"], dtype=float)
    n = len(value)
    shown = table["shown"]
    fixed = table["fixed"]
    big = max(float(value.max()), 1.0)
    weight = float(table.get("value_weight", 1.0))
    cost = 1.0 + weight * value / big

    primaries = {}
    for cell, lower, upper in table["primary"]:
        lo, up = primaries.get(cell, (0.0, 0.0))
        primaries[cell] = (max(lo, min(lower, value[cell])), max(up, upper))
    copies = []
    for cell, (lower, upper) in sorted(primaries.items()):
        if upper > 1e-9:
            copies.append((cell, +1, upper))
        if lower > 1e-9:
            copies.append((cell, -1, lower))

    # variables: x (n), then one block of n deviations per copy
    nvar = n * (1 + len(copies))
    c = np.zeros(nvar)
    lb = np.zeros(nvar)
    ub = np.ones(nvar)
    integrality = np.zeros(nvar)
    integrality[:n] = 1
    for i in range(n):
        if not shown[i]:
            lb[i] = ub[i] = 1.0  # hidden already, costs nothing
        elif fixed[i]:
            ub[i] = 0.0
        else:
            c[i] = cost[i]
    for p in primaries:
        lb[p] = 1.0

    rows, cols, vals, rlo, rhi = [], [], [], [], []
    r = 0

    def add(entries, lo, hi):
        nonlocal r
        for j, v in entries:
            rows.append(r)
            cols.append(j)
            vals.append(v)
        rlo.append(lo)
        rhi.append(hi)
        r += 1

    for k, (cell, sense, level) in enumerate(copies):
        base = n * (k + 1)
        lb[base:base + n] = -np.inf
        ub[base:base + n] = np.inf
        for total, parts in table["constraints"]:
            add([(base + total, 1.0)] + [(base + q, -1.0) for q in parts], 0.0, 0.0)
        for i in range(n):
            add([(base + i, 1.0), (i, -big)], -np.inf, 0.0)  # z_i <= U x_i
            add([(base + i, 1.0), (i, value[i])], 0.0, np.inf)  # z_i >= -a_i x_i
        if sense > 0:
            lb[base + cell] = level
        else:
            ub[base + cell] = -level

    a = coo_matrix((vals, (rows, cols)), shape=(r, nvar)).tocsr()
    start = time.perf_counter()
    res = milp(
        c,
        constraints=LinearConstraint(a, rlo, rhi),
        bounds=Bounds(lb, ub),
        integrality=integrality,
        options={"time_limit": time_limit, "disp": False},
    )
    seconds = time.perf_counter() - start
    out = {
        "name": table["name"],
        "cells": n,
        "primaries": len(primaries),
        "status": {0: "optimal", 1: "time limit", 2: "infeasible"}.get(res.status, res.message),
        "seconds": round(seconds, 3),
        "bound": getattr(res, "mip_dual_bound", None),
    }
    if res.x is not None:
        x = res.x[:n]
        out["secondary"] = [
            i for i in range(n) if x[i] > 0.5 and shown[i] and i not in primaries
        ]
        out["objective"] = float(res.fun)
    else:
        out["secondary"] = None
        out["objective"] = None
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("tables", nargs="+")
    args = parser.parse_args()
    for path in args.tables:
        with open(path) as f:
            table = json.load(f)
        print(json.dumps(solve(table, args.time_limit)), flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Reference values for the microdata tests, computed with pycanon (an independent k-anonymity and
l-diversity checker) and pandas. Run offline once; the Rust tests read what it writes and never
need Python.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pycanon==1.3.6 pandas
    cd crates/disclosure/tests/data/microdata && /tmp/venv/bin/python reference.py

- extract.csv: a synthetic 200-record extract (pseudonym, five quasi-identifiers, two sensitive
  attributes), generated here with a fixed seed when absent.
- anonymized.csv: written by the Rust test `microdata::tests::pycanon_reference` when absent
  (anonymize with the policy in that test; suppressed values written as "*").
- reference.json: for each case, pycanon's k (k_anonymity) and l (l_diversity, the minimum
  over the sensitive attributes), and pandas' count of classes, of sample uniques and of records
  in classes smaller than 3. Missing values do not occur: "*" is an ordinary value here, as it is
  for pycanon.
"""

import json
import os
import random

import pandas as pd
import pycanon
from pycanon import anonymity

HERE = os.path.dirname(os.path.abspath(__file__))
QUASI = ["age", "sex", "zone", "citizenship", "household"]
SENSITIVE = ["benefit", "isee_band"]


def generate(path):
    rng = random.Random(20240611)
    zones = [f"Z{i:02d}" for i in range(1, 13)]
    zone_weights = [12, 10, 9, 8, 8, 7, 6, 5, 4, 3, 2, 1]
    rows = []
    for i in range(1, 201):
        age = min(95, max(18, int(rng.gauss(48, 17))))
        sex = rng.choice(["F", "M"])
        zone = rng.choices(zones, zone_weights)[0]
        citizenship = rng.choices(["IT", "EU", "nonEU"], [80, 7, 13])[0]
        household = rng.choices(["single", "couple", "family", "lone_parent"], [35, 25, 30, 10])[0]
        benefit = rng.choices(["none", "ADI", "AU", "SFL", "RdC"], [40, 15, 25, 5, 15])[0]
        isee = rng.choices(["A", "B", "C", "D", "E"], [30, 25, 20, 15, 10])[0]
        rows.append([f"p{i:04d}", str(age), sex, zone, citizenship, household, benefit, isee])
    df = pd.DataFrame(rows, columns=["id"] + QUASI + SENSITIVE)
    df.to_csv(path, index=False)


def measure(df, qi, sa):
    sizes = df.groupby(qi).size()
    return {
        "quasi": qi,
        "sensitive": sa,
        "k": int(anonymity.k_anonymity(df, qi)),
        "l": int(anonymity.l_diversity(df, qi, sa)),
        "classes": int(len(sizes)),
        "sample_uniques": int((sizes == 1).sum()),
        "below_3": int(sizes[sizes < 3].sum()),
    }


def main():
    extract = os.path.join(HERE, "extract.csv")
    if not os.path.exists(extract):
        generate(extract)
    cases = {
        "extract": [
            QUASI,
            ["sex", "citizenship"],
            ["sex", "household"],
            ["zone"],
            ["sex", "citizenship", "household"],
        ]
    }
    anonymized = os.path.join(HERE, "anonymized.csv")
    if os.path.exists(anonymized):
        cases["anonymized"] = [QUASI, ["age", "sex"], ["age", "citizenship"], ["sex"]]
    out = {"pycanon": pycanon.__version__, "cases": []}
    for name, qis in cases.items():
        df = pd.read_csv(os.path.join(HERE, f"{name}.csv"), dtype=str, keep_default_na=False)
        for qi in qis:
            case = measure(df, qi, SENSITIVE)
            case["file"] = f"{name}.csv"
            out["cases"].append(case)
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

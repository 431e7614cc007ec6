#!/usr/bin/env python3
"""A second NAS-Bench-201 table of the same schema, for checking that a strategy's defaults do
not depend on one table.

Reads a table (such as ../shared/data/nasbench201/cifar10.csv) and writes one with the same
architectures and costs, where every accuracy column is passed through a monotone transform
(a power of the error rate, which stretches the top of the ranking) and then gets independent
Gaussian noise. The noise changes which architectures are best and how well the 12-epoch
accuracy predicts the 200-epoch ones; the transform changes the scale of the differences.

Usage: perturb_nasbench201_table.py IN OUT [--noise 0.3] [--power 1.3] [--seed 1]
"""

import argparse
import csv
import random

ACCURACY_COLUMNS = ("val_acc_12", "val_acc_200", "test_acc_200")


def transform(accuracy, power):
    """Monotone in the accuracy: 100 - 100 * (error / 100)^power, error = 100 - accuracy."""
    error = max(0.0, min(100.0, 100.0 - accuracy))
    return 100.0 - 100.0 * (error / 100.0) ** power


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--noise", type=float, default=0.3, help="standard deviation, points")
    parser.add_argument("--power", type=float, default=1.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    with open(args.input, newline="") as source:
        reader = csv.DictReader(source)
        fields = reader.fieldnames
        rows = list(reader)
    for row in rows:
        for column in ACCURACY_COLUMNS:
            value = transform(float(row[column]), args.power) + rng.gauss(0.0, args.noise)
            row[column] = f"{min(100.0, max(0.0, value)):.4f}"
    with open(args.output, "w", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()

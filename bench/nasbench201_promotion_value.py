#!/usr/bin/env python3
"""What a 200-epoch query is worth on a NAS-Bench-201 table, under the benchmark's charging.

`nascent bench nasbench201` charges a 12-epoch query `train_cost_12_s` and a 200-epoch query
`train_cost_12_s * 200 / 12`, and reports the best architecture at the highest fidelity a run
queried. This script measures, for random search, the two sides of a promotion:

- the gain: among the architectures a run has seen, re-rank the best k by `val_acc_200`
  instead of taking the best `val_acc_12`, with the 200-epoch queries free;
- the cost: the same, but the k 200-epoch queries are charged, so fewer architectures fit in
  the budget (the run keeps enough budget in reserve for the k promotions it will make).

Usage: nasbench201_promotion_value.py TABLE [--budget-s 12000] [--runs 2000] [--seed 0]
"""

import argparse
import csv
import random
import statistics


def load(path):
    with open(path, newline="") as table:
        return [
            (float(row["val_acc_12"]), float(row["train_cost_12_s"]), float(row["val_acc_200"]),
             float(row["test_acc_200"])) for row in csv.DictReader(table)
        ]


def best_by_val_200(rows, seen, k):
    """The reported architecture: the best val_acc_200 among the k best val_acc_12."""
    shortlist = sorted(seen, key=lambda i: -rows[i][0])[:max(k, 1)]
    if k == 0:
        return shortlist[0]
    return max(shortlist, key=lambda i: rows[i][2])


def random_search(rows, budget_s, k, rng, charge_promotions):
    order = list(range(len(rows)))
    rng.shuffle(order)
    spent = 0.0
    seen = []
    for index in order:
        cost = rows[index][1]
        # Keep enough in reserve to promote the k best seen so far at 200 epochs.
        shortlist = sorted(seen + [index], key=lambda i: -rows[i][0])[:k]
        reserve = sum(rows[i][1] * 200.0 / 12.0 for i in shortlist) if charge_promotions else 0.0
        if spent + cost + reserve > budget_s:
            break
        spent += cost
        seen.append(index)
    return rows[best_by_val_200(rows, seen, k)][3], len(seen)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("--budget-s", type=float, default=12000.0)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = load(args.table)

    print("promotions k | charged | queries at 12 epochs | mean test_acc_200")
    for charge in (False, True):
        for k in (0, 1, 2, 3, 4):
            results = []
            queries = []
            for run in range(args.runs):
                rng = random.Random(args.seed * 1000003 + run)
                accuracy, count = random_search(rows, args.budget_s, k, rng, charge)
                results.append(accuracy)
                queries.append(count)
            print(f"{k} | {'yes' if charge else 'no'} | {statistics.mean(queries):.1f} | "
                  f"{statistics.mean(results):.3f} +/- "
                  f"{statistics.stdev(results) / len(results) ** 0.5:.3f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Real training with workers on one machine: the same TRIALS architectures of the Fashion-MNIST
# example (examples/fashion_mnist.yaml with random search, so every run trains the same first
# TRIALS proposals of seed 0) trained by 1 worker with 2 LibTorch threads, then by 2 workers
# with 1 thread each, each run in a SQLite study of its own. Prints a markdown table: finished
# trials per minute over the span from the first trial's start to the last one's finish, and
# the summed training seconds of the trials.
#
#   bench/run_workers_training.sh [BUILD_DIR]      (default: build; TRIALS=12)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-build}
nascent="$repo/$build_dir/nascent"
trials=${TRIALS:-12}

work=$(mktemp -d /tmp/nascent-bench-training.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Random search instead of evolution: its proposals do not depend on results, so both runs
# train the same architectures whatever order they finish in.
sed -e 's/^  name: evolution/  name: random/' -e '/^  population: /d' -e '/^  sample: /d' \
  "$repo/examples/fashion_mnist.yaml" >"$work/fashion_mnist_random.yaml"

echo "| workers x threads | trials | span s | trials/min | summed train s | mean train s |"
echo "|---|---:|---:|---:|---:|---:|"
for layout in "1 2" "2 1"; do
  read -r workers threads <<<"$layout"
  url="sqlite://$work/w$workers.db"
  "$nascent" create-study "$work/fashion_mnist_random.yaml" --storage "$url" --study training \
    --max-trials "$trials" --time-limit-min 0 >/dev/null
  pids=()
  for ((i = 1; i <= workers; ++i)); do
    "$nascent" worker --storage "$url" --study training --name "w$i" --threads "$threads" \
      >"$work/w$workers.$i.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  IFS='|' read -r finished span summed <<<"$(sqlite3 "$work/w$workers.db" \
    "SELECT count(*), max(finished_at) - min(started_at), sum(train_seconds) FROM trials
     WHERE state = 'complete'")"
  awk -v layout="$workers x $threads" -v n="$finished" -v span="$span" -v summed="$summed" \
    'BEGIN { printf "| %s | %d | %.0f | %.2f | %.0f | %.1f |\n", layout, n, span,
             n / span * 60, summed, summed / n }'
done

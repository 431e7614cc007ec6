#!/usr/bin/env bash
# Finished trials per minute of one shared study with 1, 2, 4 and 8 `nascent worker` processes,
# on a SQLite file and on a PostgreSQL server, with the NAS-Bench-201 table as the evaluator
# (create-study --table): each trial waits TRIAL_S seconds of real time instead of training, so
# the workers' cores stay free and what is measured is the coordination (claims under the study
# lock, the strategy rebuilt from the history, heartbeats, results).
#
#   bench/run_workers.sh [BUILD_DIR]       (default: build, relative to the repository)
#
# Settings from the environment: TRIAL_S (0.5), TRIALS (64 per run), WORKERS ("1 2 4 8"),
# BACKENDS ("sqlite postgresql"), STRATEGY (evolution), TABLE (../shared/data/nasbench201/
# cifar10.csv). PostgreSQL runs on a throwaway server on 127.0.0.1 (scripts/test_postgres.sh)
# with fsync on. Prints a markdown table on stdout:
#   - "wall s": from starting the workers until the last one exited (process start-up included);
#   - "trials/min": finished trials divided by the span from the first trial's start to the last
#     one's finish, as stored (start-up excluded);
#   - "speed-up" and "efficiency": trials/min against the same back end's 1-worker run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-build}
nascent="$repo/$build_dir/nascent"
trial_s=${TRIAL_S:-0.5}
trials=${TRIALS:-64}
worker_counts=${WORKERS:-"1 2 4 8"}
backends=${BACKENDS:-"sqlite postgresql"}
strategy=${STRATEGY:-evolution}
table=${TABLE:-"$repo/../shared/data/nasbench201/cifar10.csv"}

if [[ ! -x "$nascent" ]]; then
  echo "run_workers: expected the nascent binary at $nascent, found none (build it first)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/nascent-bench-workers.XXXXXX)
# A directory of its own: as root the server runs as the postgres user, who cannot enter $work.
postgres_dir=$(mktemp -d /tmp/nascent-bench-postgres.XXXXXX)
cleanup() {
  if [[ -d "$postgres_dir" ]]; then bash "$repo/scripts/test_postgres.sh" stop "$postgres_dir"; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/nb201.yaml" <<YAML
study: bench-workers
seed: 0
space: {family: nasbench201}
strategy: {name: $strategy}
budget: {max_trials: $trials}
YAML

postgres_url=
if [[ " $backends " == *" postgresql "* ]]; then
  postgres_url=$(POSTGRES_FSYNC=on bash "$repo/scripts/test_postgres.sh" start "$postgres_dir")
fi

echo "| back end | workers | s per trial | trials | wall s | trials/min | speed-up | efficiency |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for backend in $backends; do
  baseline=
  for workers in $worker_counts; do
    study="bench-$backend-$workers"
    if [[ "$backend" == sqlite ]]; then
      url="sqlite://$work/$study.db"
    else
      url=$postgres_url
    fi
    "$nascent" create-study "$work/nb201.yaml" --storage "$url" --study "$study" \
      --table "$table" --table-trial-s "$trial_s" >/dev/null

    start=$(date +%s.%N)
    pids=()
    for ((i = 1; i <= workers; ++i)); do
      "$nascent" worker --storage "$url" --study "$study" --name "w$i" --threads 1 \
        --poll-s 0.05 >"$work/$study.w$i.out" 2>"$work/$study.w$i.err" &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do
      if ! wait "$pid"; then
        echo "run_workers: a worker of $study failed:" >&2
        cat "$work/$study".w*.err >&2
        exit 1
      fi
    done
    end=$(date +%s.%N)

    if [[ "$backend" == sqlite ]]; then
      span=$(sqlite3 "$work/$study.db" "SELECT count(*), min(started_at), max(finished_at)
        FROM trials WHERE state = 'complete'")
    else
      span=$(psql "$url" -At -F '|' -c "SELECT count(*), min(t.started_at), max(t.finished_at)
        FROM nascent_trials t JOIN nascent_studies s ON s.id = t.study_id
        WHERE s.name = '$study' AND t.state = 'complete'")
    fi
    IFS='|' read -r finished first_start last_finish <<<"$span"
    rate=$(awk -v n="$finished" -v a="$first_start" -v b="$last_finish" \
      'BEGIN { printf "%.1f", n / (b - a) * 60 }')
    if [[ -z "$baseline" ]]; then baseline=$rate; fi
    awk -v backend="$backend" -v workers="$workers" -v trial_s="$trial_s" -v n="$finished" \
      -v wall="$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" -v rate="$rate" \
      -v base="$baseline" -v first="$worker_counts" 'BEGIN {
        split(first, counts, " ");
        speedup = rate / base;
        printf "| %s | %d | %s | %d | %.1f | %.1f | %.2f | %.0f%% |\n", backend, workers, trial_s,
          n, wall, rate, speedup, 100 * speedup / (workers / counts[1]) }'
  done
done

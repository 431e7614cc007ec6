#!/usr/bin/env bash
# Training throughput, nascent vs PyTorch: trains each reference network of
# nascent_bench_throughput (three of the macro space: classic_cnn, mobile, residual; and cell, a
# NAS-Bench-201 cell network of the size of examples/nasbench201_bohb.yaml) in nascent (C++) and,
# rebuilt from the same plan, in PyTorch's Python API, and prints a markdown table. Both sides
# load the same LibTorch 1.13 shared libraries, so the comparison measures what each front end
# adds on top of the same kernels.
#
#   bench/run_throughput.sh [BUILD_DIR]       (default: build, relative to the repository)
#
# Settings come from the environment: THREADS (2), BATCH (128), WARMUP (30), STEPS (100) and
# ROUNDS (3). Each round measures every network on both sides, alternating which side goes
# first; the table keeps each side's best round, so a burst of load from other processes on the
# machine does not decide the ratio. Progress and the raw JSON lines go to stderr, the table to
# stdout. Each round times nascent's step and its whole training loop (--full-loop), and PyTorch
# in its default layout and in channels-last. NASCENT_LAYOUT=contiguous measures nascent's plain
# NCHW path. About 8 minutes of measuring on a lightly loaded 2-core machine once built.
#
# glibc's allocator hands large activation buffers back to the kernel and faults them in again
# on the next step; how often depends on the process's allocation history, so it differs between
# the two sides and from run to run. To compare the front ends without that, give both the same
# fixed thresholds:
#   GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456 \
#     bench/run_throughput.sh
#
# Achieved GFLOP/s counts a training step as 3 forward passes (forward, backward to the
# activations, backward to the weights) of 2 FLOPs per multiply-accumulate:
#   GFLOP/s = 3 x 2 x (MACs per image) x (images per second) / 1e9
# and compares it with a 2048 x 2048 float matmul on the same threads, which is close to the
# best the machine's BLAS can do.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-build}
[[ $build_dir == /* ]] || build_dir="$repo/$build_dir"
threads=${THREADS:-2}
batch=${BATCH:-128}
warmup=${WARMUP:-30}
steps=${STEPS:-100}
rounds=${ROUNDS:-3}
archs=(classic_cnn mobile residual cell)
# Debian's interpreter: it has python3-torch, which a pyenv python3 on PATH may lack.
python=/usr/bin/python3

# The load average includes this script's own 2 threads once it measures; before building it
# shows what else runs on the machine.
echo "run_throughput: load before building: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Build the benchmark, turning the benchmarks on if this build directory was configured without.
if ! grep -qs '^NASCENT_BUILD_BENCH:BOOL=ON' "$build_dir/CMakeCache.txt"; then
  generator=()
  if [[ ! -f $build_dir/CMakeCache.txt ]] && command -v ninja >/dev/null; then
    generator=(-G Ninja)
  fi
  cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DNASCENT_BUILD_BENCH=ON >&2
fi
cmake --build "$build_dir" --target nascent_bench_throughput >&2
bench="$build_dir/bench/nascent_bench_throughput"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# CPU time of the whole machine and of this script's children, in clock ticks: their difference
# over the measurement is what other processes took from the benchmark. The load average alone
# cannot tell, since it counts the benchmark's own threads.
machine_busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
own_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$$/stat"; }
start_seconds=$SECONDS
start_busy=$(machine_busy_ticks)
start_own=$(own_ticks)

echo "run_throughput: threads $threads, batch $batch, warm-up $warmup, timed steps $steps," \
  "rounds $rounds" >&2
"$bench" --matmul --threads "$threads" | tee "$work/matmul.json" | sed 's/^/  /' >&2

# NASCENT_ALLOCATOR=default measures nascent with glibc's allocator left as it is (the "before"
# of configure_allocator_for_training()); by default nascent configures it, as the command does.
allocator_flag=()
[[ ${NASCENT_ALLOCATOR:-configured} == default ]] && allocator_flag=(--default-allocator)
# NASCENT_LAYOUT=contiguous measures nascent's plain NCHW path (train.channels_last: false).
nascent_layout=${NASCENT_LAYOUT:-channels_last}

run_nascent() {
  "$bench" --arch "$1" "${allocator_flag[@]}" --layout "$nascent_layout" --full-loop \
    --threads "$threads" --batch "$batch" --steps "$steps" --warmup "$warmup" \
    --plan-out "$work/$1.plan.json" | tee -a "$work/nascent.jsonl" | sed 's/^/  nascent: /' >&2
}
# PyTorch as its users run it by default (NCHW) and with its documented channels-last recipe.
run_pytorch() {
  local layout
  for layout in contiguous channels_last; do
    "$python" "$repo/bench/pytorch_throughput.py" --plan "$work/$1.plan.json" --layout "$layout" \
      --threads "$threads" --batch "$batch" --steps "$steps" --warmup "$warmup" |
      tee -a "$work/pytorch_$layout.jsonl" | sed "s/^/  pytorch ($layout): /" >&2
  done
}

for arch in "${archs[@]}"; do
  # The plan must exist before PyTorch can read it, so round 1 starts with nascent.
  for ((round = 1; round <= rounds; ++round)); do
    if ((round % 2 == 1)); then
      run_nascent "$arch"
      run_pytorch "$arch"
    else
      run_pytorch "$arch"
      run_nascent "$arch"
    fi
  done
done
others_ticks=$(($(machine_busy_ticks) - start_busy - ($(own_ticks) - start_own)))
elapsed=$((SECONDS - start_seconds))
awk -v ticks="$others_ticks" -v hz="$(getconf CLK_TCK)" -v elapsed="$elapsed" 'BEGIN {
  printf "run_throughput: measured for %d s; other processes used %.0f CPU-s (%.2f cores on " \
    "average)\n", elapsed, ticks / hz, ticks / hz / (elapsed > 0 ? elapsed : 1) }' >&2

"$python" - "$work" "${archs[@]}" <<'EOF'
import json
import sys

work, archs = sys.argv[1], sys.argv[2:]


def best_runs(path):
    """The fastest run of each network."""
    best = {}
    with open(path) as file:
        for line in file:
            run = json.loads(line)
            if run["arch"] not in best or run["images_per_s"] > best[run["arch"]]["images_per_s"]:
                best[run["arch"]] = run
    return best


with open(f"{work}/matmul.json") as file:
    matmul_gflops = json.load(file)["matmul_gflops"]
nascent = best_runs(f"{work}/nascent.jsonl")
pytorch = best_runs(f"{work}/pytorch_contiguous.jsonl")
pytorch_nhwc = best_runs(f"{work}/pytorch_channels_last.jsonl")

print(f"matmul 2048x2048: {matmul_gflops:.1f} GFLOP/s")
print()
print("| arch | params | MMACs/image | nascent images/s | PyTorch images/s | nascent/PyTorch "
      "| PyTorch channels-last images/s | nascent/PyTorch channels-last "
      "| nascent GFLOP/s | % of matmul | nascent whole loop images/s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for arch in archs:
    ours, theirs, theirs_nhwc = nascent[arch], pytorch[arch], pytorch_nhwc[arch]
    for other in (theirs, theirs_nhwc):
        if ours["params"] != other["params"]:
            sys.exit(f"run_throughput: {arch}: nascent has {ours['params']} parameters, "
                     f"PyTorch {other['params']}")
    gflops = 3 * 2 * ours["flops"] * ours["images_per_s"] / 1e9
    print(f"| {arch} | {ours['params']:,} | {ours['flops'] / 1e6:.2f} "
          f"| {ours['images_per_s']:,.0f} | {theirs['images_per_s']:,.0f} "
          f"| {ours['images_per_s'] / theirs['images_per_s']:.2f} "
          f"| {theirs_nhwc['images_per_s']:,.0f} "
          f"| {ours['images_per_s'] / theirs_nhwc['images_per_s']:.2f} "
          f"| {gflops:.1f} | {100 * gflops / matmul_gflops:.1f}% "
          f"| {ours['loop_images_per_s']:,.0f} |")
print()
print(f"nascent layout: {ours['layout']}")
EOF

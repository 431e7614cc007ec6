#!/usr/bin/env bash
# Installs, with apt-get, everything nascent needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git clang-format
  libtorch-dev             # LibTorch 1.13 (CPU)
  libopenblas0-openmp      # fast BLAS for LibTorch; the reference BLAS is ~40x slower
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev sqlite3 zlib1g-dev
  libpq-dev                # PostgreSQL client library: the study store for many machines
  postgresql               # a PostgreSQL server, started on loopback for the tests only
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist    # /usr/share/datasets/fashion-mnist/
  python3-torch            # only for the side-by-side PyTorch benchmark
  libopencv-dev            # OpenCV DNN: the independent runtime that checks ONNX exports
  chromium                 # headless browser that checks the HTML report in the tests
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# LibTorch links libblas.so.3; make sure the alternative points at OpenBLAS (OpenMP build).
blas_alternative=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null |
  grep openblas | grep -m1 openmp || true)
if [[ -n "$blas_alternative" ]]; then
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas_alternative" >/dev/null
  lapack_alternative=$(update-alternatives --list liblapack.so.3-x86_64-linux-gnu 2>/dev/null |
    grep openblas | grep -m1 openmp || true)
  if [[ -n "$lapack_alternative" ]]; then
    $sudo update-alternatives --set liblapack.so.3-x86_64-linux-gnu "$lapack_alternative" \
      >/dev/null
  fi
fi
echo "setup: all packages present"

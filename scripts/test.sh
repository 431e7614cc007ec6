#!/usr/bin/env bash
# Installs what is missing, builds nascent with its tests, and runs the suite under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DNASCENT_BUILD_TESTS=ON >/dev/null
cmake --build build -j 2
ctest --test-dir build --output-on-failure --timeout 900

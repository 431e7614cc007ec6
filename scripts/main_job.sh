#!/usr/bin/env bash
# Installs what is missing, builds nascent, and runs the main job: a search on Fashion-MNIST
# with the embedded SQLite store, then the retraining and test of the best architecture.
# Running it again resumes the same study (in runs/fashion-mnist) instead of starting over.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j 2 --target nascent
./build/nascent search examples/fashion_mnist.yaml --out "${1:-runs/fashion-mnist}"

#!/usr/bin/env bash
# Installs what is missing, builds nascent with its tests, and runs the suite under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# House style: every C++ file as clang-format (the repository's .clang-format) writes it.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z '*.cpp' '*.h' | xargs -0 clang-format --dry-run --Werror
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DNASCENT_BUILD_TESTS=ON >/dev/null
cmake --build build -j 2

# The PostgreSQL store's tests need a server: a throwaway one on 127.0.0.1, stopped on exit.
postgres_dir=$(mktemp -d /tmp/nascent-test-postgres.XXXXXX)
trap 'bash scripts/test_postgres.sh stop "$postgres_dir"' EXIT
NASCENT_TEST_POSTGRES_URL=$(bash scripts/test_postgres.sh start "$postgres_dir")
export NASCENT_TEST_POSTGRES_URL
echo "test.sh: PostgreSQL for the tests at $NASCENT_TEST_POSTGRES_URL"

ctest --test-dir build --output-on-failure --timeout 900

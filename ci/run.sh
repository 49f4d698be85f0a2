#!/usr/bin/env bash
# What CI runs on a fresh machine: dependencies, a -Werror build, the formatting check and
# the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh --ci
make format-check
make WERROR=1 tests
make WERROR=1 test

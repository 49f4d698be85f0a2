#!/usr/bin/env bash
# What CI runs on a fresh machine: dependencies, lint, a -Werror build, every test (the README's
# `make test`, with every skipped test's reason checked against ci/expected-skips), both fuzzers
# for 60 s each, the reference plots redrawn from the committed results (they must come out
# the same), and the smoke suite as the README runs it (`make smoke`, then `make bench
# SUITE=smoke`) with its plots.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh --ci
make format-check
# Every shell script of the project, found by its first line (none left out by a list).
mapfile -t scripts < <(grep -slE '^#!/usr/bin/env (bash|sh)|^#!/bin/(ba)?sh' bench/* ci/*.sh tests/*.sh)
shellcheck "${scripts[@]}"
shellcheck -s bash -e SC2207 completions/concurrency-bench.bash
make WERROR=1 tests
make WERROR=1 test
# A skip hides a failure unless this machine is expected to have it (ci/expected-skips).
ci/skips.sh --expect ci/expected-skips build/test-reports/*.tap

echo "== fuzzing, 60 s per target"
make fuzz FUZZ_TIME=60

echo "== reference plots, redrawn from results/reference/"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for run in results/reference/*/; do
    name=$(basename "$run")
    bench/plot --strict "$run" "$tmp/$name"
    for f in plots/reference/"$name"/*.svg plots/reference/"$name"/*.md; do
        [[ -e $f ]] || continue
        cmp "$f" "$tmp/$name/$(basename "$f")" || {
            echo "ci: $f differs when redrawn from $run" >&2
            exit 1
        }
    done
    for f in plots/reference/"$name"/*.png; do
        [[ -s $f && -s $tmp/$name/$(basename "$f") ]] || {
            echo "ci: $f missing or empty" >&2
            exit 1
        }
    done
done

# The smoke suite as the README runs it: make smoke (and make bench SUITE=smoke's dry run).
check_smoke() { # what ran: the finished run results/smoke-latest names, whole, with its plots
    local dir=results/smoke-latest p ext
    [[ -f $dir/summary.json ]] || {
        echo "ci: $1 left no finished run at $dir" >&2
        exit 1
    }
    jq -e '[.configs[].failed] | add == 0' "$dir/summary.json" >/dev/null || {
        echo "ci: $1 had failed cells:" >&2
        jq -r '.configs[] | select(.failed > 0) | "\(.model) c=\(.conc): \(.errors_seen)"' \
            "$dir/summary.json" >&2
        exit 1
    }
    [[ -s $dir/report.html ]] || {
        echo "ci: $1 left no report.html in $dir" >&2
        exit 1
    }
    for p in throughput latency cpu percentiles; do
        for ext in png svg; do
            [[ -s $dir/plots/$p.$ext ]] || {
                echo "ci: $1: plot $p.$ext missing or empty" >&2
                exit 1
            }
        done
    done
}
echo "== make smoke"
rm -f results/smoke-latest
make smoke
check_smoke "make smoke"
# make bench with a suite, as the README shows it: the same suite again through make bench,
# a run of its own that results/smoke-latest then names.
echo "== make bench SUITE=smoke"
before=$(readlink -f results/smoke-latest)
make bench SUITE=smoke
check_smoke "make bench SUITE=smoke"
[[ $(readlink -f results/smoke-latest) != "$before" ]] || {
    echo "ci: make bench SUITE=smoke made no run of its own" >&2
    exit 1
}
echo "ci: all passed"

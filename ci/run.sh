#!/usr/bin/env bash
# What CI runs on a fresh machine: dependencies, lint, a -Werror build, every test (the README's
# test command), both fuzzers for 60 s each, the reference plots redrawn from the committed
# results (they must come out the same), and the smoke suite with its plots.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh --ci
make format-check
shellcheck bench/run bench/plot bench/models bench/compare-models bench/loadgen-vs-wrk bench/summarize \
    bench/compare bench/export bench/netns-hosts ci/*.sh tests/sshd-netns.sh
shellcheck -s bash -e SC2207 completions/concurrency-bench.bash
make WERROR=1 tests
make WERROR=1 test

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

echo "== smoke suite"
rc=0
dir=$(bench/run smoke --out "$tmp/smoke") || rc=$?
[[ $rc -eq 0 || $rc -eq 3 ]] || {
    echo "ci: bench/run smoke exited with $rc" >&2
    exit 1
}
jq -e '[.configs[].failed] | add == 0' "$dir/summary.json" >/dev/null || {
    echo "ci: smoke suite had failed cells:" >&2
    jq -r '.configs[] | select(.failed > 0) | "\(.model) c=\(.conc): \(.errors_seen)"' \
        "$dir/summary.json" >&2
    exit 1
}
for p in throughput latency cpu percentiles; do
    for ext in png svg; do
        [[ -s $dir/plots/$p.$ext ]] || {
            echo "ci: smoke plot $p.$ext missing or empty" >&2
            exit 1
        }
    done
done
echo "ci: all passed"

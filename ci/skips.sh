#!/usr/bin/env bash
# ci/skips.sh: the tests the phases of `make test` skipped, with their reasons, from the TAP
# reports each phase writes (build/test-reports/*.tap). Tests a phase leaves out on purpose
# (--filter, SRV_MODELS) are not skips and are not listed.
#
# usage: ci/skips.sh [--expect FILE] REPORT.tap...
#   --expect FILE  fail (exit 1) when a test was skipped for a reason FILE does not list: one
#                  reason per line (a fixed string found in the reason; # starts a comment)
# Exit status: 0, or 1 with --expect when a skip was not expected, 2 for bad usage.
set -euo pipefail

expect=""
if [[ ${1:-} == --expect ]]; then
    [[ $# -ge 2 ]] || { echo "ci/skips.sh: --expect needs a file" >&2; exit 2; }
    expect=$2
    shift 2
fi
[[ $# -ge 1 ]] || { echo "usage: ci/skips.sh [--expect FILE] REPORT.tap..." >&2; exit 2; }

# phase<TAB>test<TAB>reason, one line per skipped test.
skips=$(for f in "$@"; do
    [[ -r $f ]] || { echo "ci/skips.sh: cannot read $f" >&2; exit 2; }
    phase=$(basename "$f" .tap)
    sed -nE 's/^ok - ([^ ]+) +# SKIP (.*)$/\1\t\2/p' "$f" |
        grep -vE $'\t(test was skipped|.* not selected by SRV_MODELS)$' |
        sed "s/^/$phase\t/" || true
done)
if [[ -z $skips ]]; then
    echo "skipped: none"
    exit 0
fi
echo "skipped: $(wc -l <<<"$skips") test(s), by reason:"
sort -t$'\t' -k3,3 -k1,1 <<<"$skips" |
    awk -F'\t' '{ k = $3; n[k]++; if (!(k in first)) { order[++m] = k; first[k] = $2 " (" $1 ")" } }
        END { for (i = 1; i <= m; i++) printf "  %4d  %s  [e.g. %s]\n", n[order[i]], order[i], first[order[i]] }'
[[ -n $expect ]] || exit 0

bad=0
while IFS=$'\t' read -r phase name reason; do
    ok=0
    while IFS= read -r want; do
        want=${want%%#*}
        want=${want%"${want##*[![:space:]]}"}
        [[ -n $want ]] || continue
        [[ $reason == *"$want"* ]] && { ok=1; break; }
    done <"$expect"
    if ((!ok)); then
        echo "ci/skips.sh: not expected on this machine: $name ($phase): $reason" >&2
        bad=1
    fi
done <<<"$skips"
exit $bad

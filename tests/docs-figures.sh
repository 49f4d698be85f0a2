#!/bin/bash
# shellcheck disable=SC2016 # backquotes in patterns are Markdown's, not the shell's
# Every figure the README, docs/ and `make help` quote that a tool knows is held against that
# tool, so the documents cannot drift from it:
#   - a suite's cells and estimated time (the suite tables, the suite file's header): its dry
#     run;
#   - a make target's duration: the dry runs of the suites it runs (summed), or for a target
#     no dry run knows (test, tune, noise), the figure of `make help`, which itself is held
#     against the tool's --help where it says one (noise, tune);
#   - the number of models: the registry (servers/models);
#   - an option's default (the option tables, and prose such as "`--reps` (default 3)"):
#     bench/run's table of dimensions, or the --help of the binary or script that takes it.
# A dry run's estimate of a suite that counts requests rather than seconds rests on how fast
# this machine sieves when the dry run looks, so such times are held within a factor of 8 (a
# machine busy with other work sieves 3 to 7 times slower: seen here while a suite ran);
# those of timed suites within 25%. Run from the top of a built tree. Exit 0 when every
# figure holds, 1 naming each that does not.
set -u
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
checked=0
bad() {
    echo "docs-figures: $*" >&2
    fail=1
}
docs=(README.md docs/*.md)
make --no-print-directory help > "$tmp/make-help" 2>&1 || bad "make help failed"

# ---- the tools' answers ----
dry() {
    [ -s "$tmp/dry-$1" ] || bench/run "$1" --dry-run > "$tmp/dry-$1" 2>&1 ||
        bad "bench/run $1 --dry-run failed"
}
to_s() { # 16m24s, 31s -> seconds
    local t=$1 m=0 s=0
    [[ $t =~ ([0-9]+)m ]] && m=${BASH_REMATCH[1]}
    [[ $t =~ ([0-9]+)s ]] && s=${BASH_REMATCH[1]}
    echo $((10#$m * 60 + 10#$s))
}
# est SUITE...: lo and hi (seconds) of the suites' dry runs, summed; loose=1 when one counts
# requests
est() {
    lo=0 hi=0 loose=0
    local s l a b
    for s; do
        dry "$s"
        l=$(grep -m1 '^estimated time:' "$tmp/dry-$s")
        a=$(to_s "$(sed -E 's/^estimated time: ([0-9ms]+).*/\1/' <<< "$l")")
        b=$a
        [[ $l =~ at\ most\ ([0-9ms]+) ]] && b=$(to_s "${BASH_REMATCH[1]}")
        lo=$((lo + a)) hi=$((hi + b))
        grep -q '^REQUESTS=' "bench/suites/$s" && loose=1
    done
    return 0
}
cells_of() {
    dry "$1"
    sed -n 's/^cells: \([0-9]*\) .*/\1/p' "$tmp/dry-$1"
}
suites_of() { # the suites a make target runs
    case $1 in
    bench) echo default ;;
    smoke) echo smoke ;;
    book) echo book book-scaled ;;
    sweep-backlog) echo backlog ;;
    sweep-pool) echo pool ;;
    workloads) sed -n 's/^workloads:.*## .*suites: \([a-z ]*\) (.*/\1/p' Makefile ;;
    esac
}
# a quoted duration ("about 1.5 min", "16 to 19 minutes", "under 2 minutes") -> qlo qhi, s
quoted() {
    local q=$1 x y
    x=$(grep -oE '[0-9]+(\.[0-9]+)?' <<< "$q" | head -n1)
    y=$(grep -oE '[0-9]+(\.[0-9]+)?' <<< "$q" | sed -n 2p)
    [ -n "$y" ] || y=$x
    case $q in *under*) x=0 ;; esac
    case $q in *min*) qlo=$(awk -v v="$x" 'BEGIN{print v*60}') qhi=$(awk -v v="$y" 'BEGIN{print v*60}') ;;
    *) qlo=$x qhi=$y ;;
    esac
}
# holds LABEL QUOTED: the quoted duration against lo..hi (from est)
holds() {
    local f=1.25
    [ "$loose" = 1 ] && f=8
    quoted "$2"
    checked=$((checked + 1))
    awk -v ql="$qlo" -v qh="$qhi" -v lo="$lo" -v hi="$hi" -v f="$f" \
        'BEGIN{exit !(ql / f <= hi && qh * f >= lo)}' ||
        bad "$1 says \"$2\"; the dry run estimates ${lo} s to ${hi} s"
}
help_figure() { # make help's duration for a target
    grep -E "^ *make $1 " "$tmp/make-help" | grep -oE '(about |under )?[0-9]+(\.[0-9]+)?( to [0-9]+)? min(utes)?' | head -n1
}
same_figure() { # LABEL QUOTED TARGET: the same numbers as make help's figure
    local h
    h=$(help_figure "$3")
    checked=$((checked + 1))
    [ -n "$h" ] || { bad "$1 quotes a duration for make $3, and make help gives none"; return; }
    [ "$(grep -oE '[0-9.]+' <<< "$2" | paste -sd' ')" = "$(grep -oE '[0-9.]+' <<< "$h" | paste -sd' ')" ] ||
        bad "$1 says \"$2\" for make $3; make help says \"$h\""
}

# ---- 1. the suite tables: | `SUITE` | ... | CELLS | TIME | ----
for f in "${docs[@]}"; do
    while IFS= read -r line; do
            n=${line%%:*} row=${line#*:}
            s=$(sed -E 's/^\| `([a-z0-9-]+)`.*/\1/' <<< "$row")
            [ -f "bench/suites/$s" ] || continue
            cells=$(awk -F'|' '{print $(NF-2)}' <<< "$row" | grep -oE '[0-9]+' | head -n1)
            time=$(awk -F'|' '{print $(NF-1)}' <<< "$row")
            c=$(cells_of "$s")
            checked=$((checked + 1))
            [ "$cells" = "$c" ] || bad "$f:$n: suite $s has $cells cells; its dry run says $c"
            est "$s"
            holds "$f:$n: suite $s" "$time"
    done < <(grep -nE '^\| `[a-z0-9-]+` \|.*\| [0-9]+( to [0-9]+)? \| [^|]*[0-9][^|]* \|$' "$f")
done

# ---- 1b. a suite file's own header: "N cells, about M minutes" ----
for f in bench/suites/*; do
    s=${f##*/}
    head=$(sed -n '/^#/!q; s/^# \{0,1\}//p' "$f" | tr '\n' ' ')
    c=$(grep -oE '\b[0-9]+ cells\b' <<< "$head" | head -n1 | grep -oE '[0-9]+')
    if [ -n "$c" ]; then
        checked=$((checked + 1))
        [ "$c" = "$(cells_of "$s")" ] || bad "$f: says $c cells; its dry run says $(cells_of "$s")"
    fi
    d=$(grep -oE '(about |under )?[0-9]+(\.[0-9]+)?( to [0-9]+(\.[0-9]+)?)? min(utes)?\b' <<< "$head" | head -n1)
    if [ -n "$d" ]; then
        est "$s"
        holds "$f" "$d"
    fi
done

# ---- 2. a make target's duration, in prose and in make help ----
for f in "${docs[@]}" "$tmp/make-help"; do
    label=$f
    [ "$f" = "$tmp/make-help" ] && label="make help"
    # the first duration in the same sentence after `make TARGET`, or make help's line
    while IFS=$'\t' read -r t rest; do
        d=$(grep -oE '(about |under )?[0-9]+(\.[0-9]+)?( to [0-9]+(\.[0-9]+)?)? min(utes)?\b' <<< "$rest" | head -n1)
        [ -n "$d" ] || continue
        # a figure with its own variable (QUICK=1: ...) is the tool's other mode: skip it
        grep -qE "QUICK=1[^0-9]*${d%% *}" <<< "$rest" && continue
        ss=$(suites_of "$t")
        if [ -n "$ss" ]; then
            # shellcheck disable=SC2086
            est $ss
            holds "$label: make $t" "$d"
        elif [ "$label" != "make help" ]; then
            same_figure "$label" "$d" "$t"
        fi
    done < <(if [ "$f" = "$tmp/make-help" ]; then
        sed -nE 's/^ *make ([a-z-]+) (.*)/\1\t\2/p' "$f"
    else
        grep -oE '`make [a-z-]+[^`]*`[^.|`]*' "$f" | sed -E 's/^`make ([a-z-]+)[^`]*`(.*)/\1\t\2/'
    fi)
done
# make help's own figures where the tool says one
h=$(help_figure noise)
n=$(bench/noise --help | grep -oE '[0-9]+ minutes with the defaults' | grep -oE '[0-9]+')
checked=$((checked + 1))
[ -z "$h" ] || [ "$(grep -oE '[0-9.]+' <<< "$h" | head -n1)" = "$n" ] ||
    bad "make help says make noise takes \"$h\"; bench/noise --help says $n minutes"

# ---- 3. the number of models ----
models=$(bench/models names | wc -l)
words=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen)
for f in "${docs[@]}"; do
    while IFS=: read -r n m; do
        w=$(tr '[:upper:]' '[:lower:]' <<< "${m%% *}")
        v=
        [[ $w =~ ^[0-9]+$ ]] && v=$w
        for i in "${!words[@]}"; do [ "${words[$i]}" = "$w" ] && v=$i; done
        # a count below six is of a subset (a pair, the book's five), not of the registry
        if [ -z "$v" ] || [ "$v" -lt 6 ]; then continue; fi
        # "the nine models" of a run made before there were eleven is history, said with "then"
        sed -n "${n}p" "$f" | grep -qiE "then $m|$m then" && continue
        checked=$((checked + 1))
        [ "$v" = "$models" ] || bad "$f:$n: \"$m\"; the registry has $models models"
    done < <(grep -noiE '\b([0-9]+|[a-z]+) (models|interchangeable servers)\b' "$f")
done

# ---- 4. option defaults ----
bench/run --dimensions > "$tmp/dims.json" || bad "bench/run --dimensions failed"
{
    for m in $(bench/models names); do "bin/$m-srv" --help; done
    bin/loadgen --help
    for t in run tune advise noise compare report export summarize; do bench/$t --help; done
} > "$tmp/helps" 2>&1
for m in $(bench/models names); do "bin/$m-srv" --help; done > "$tmp/helps-srv" 2>&1
bin/loadgen --help > "$tmp/helps-loadgen" 2>&1
# shellcheck disable=SC2001 # one sed for every special character
esc() { sed 's/[].[^$*+?(){}|\\]/\\&/g' <<< "$1"; }
# help_says OPTION VALUE [HELPS]: the option's entry in a --help says "default VALUE"
help_says() {
    awk -v o="$1" '
        /^ *-/ { on = 0 }
        /^ *-/ && (index($0, o " ") || index($0, o ",") || index($0, o "\t") || $0 ~ (o "$")) { on = 1 }
        on' "${3:-$tmp/helps}" | tr -s ' \n' ' ' |
        grep -qiE -e "default:? $(esc "$2")\b" -e "\b$(esc "$2") \(default" -e "\b$(esc "$2"):[^;.]*\(default[;)]"
}
default_holds() { # LABEL OPTION VALUE [HELPS]: bench/run's table, else a --help (or HELPS)
    local d
    checked=$((checked + 1))
    if [ -n "${4:-}" ]; then
        help_says "$2" "$3" "$4" || bad "$1: $2 defaults to \"$3\"; its --help does not say so"
        return
    fi
    d=$(jq -r --arg o "$2" '.[] | select(.option == $o) | .default // empty' "$tmp/dims.json")
    if [ -n "$d" ]; then
        [ "$d" = "$3" ] || [ "${d%%%}" = "${3%%%}" ] || [ "${d%s}" = "$3" ] || bad "$1: $2 defaults to \"$3\"; bench/run's table says \"$d\""
        return
    fi
    help_says "$2" "$3" || bad "$1: $2 defaults to \"$3\"; no --help says so"
}
for t in m:docs/servers.md l:docs/loadgen.md; do
    f=${t#*:}
    h=$tmp/helps-srv
    [ "${t%%:*}" = l ] && h=$tmp/helps-loadgen
    # | `OPTIONS` | meaning | `DEFAULT` ... |
    while IFS= read -r line; do
        n=${line%%:*} row=${line#*:}
        o=$(awk -F'|' '{print $2}' <<< "$row" | grep -oE -- '--[a-z][a-z-]*' | head -n1)
        [ -n "$o" ] || o=$(awk -F'|' '{print $2}' <<< "$row" | grep -oE -- '-[A-Za-z]\b' | head -n1)
        v=$(awk -F'|' '{print $(NF-1)}' <<< "$row" | grep -oE '`[^`]+`' | head -n1 | tr -d '`')
        if [ -n "$o" ] && [ -n "$v" ]; then default_holds "$f:$n" "$o" "$v" "$h"; fi
    done < <(grep -nE '^\| `-[^|]*\|.*\| `[^`]+`[^|]* \|$' "$f")
done
for f in "${docs[@]}"; do
    # `--opt ...` (default V) / `--opt`, default V: in one clause
    while IFS=: read -r n m; do
            o=$(grep -oE -- '--[a-z][a-z-]*' <<< "$m" | head -n1)
            v=$(sed -E 's/.*\(default ([0-9][0-9.]*%?)$/\1/' <<< "$m")
            default_holds "$f:$n" "$o" "$v"
    done < <(grep -noE -- '`--[a-z][a-z-]*[^`]*`[^.;:`]{0,40}\(default [0-9][0-9.]*%?' "$f")
done

[ "$checked" -ge 40 ] || bad "only $checked figures found: the patterns no longer match the documents"
[ "$fail" = 0 ] && echo "docs-figures: $checked figures hold"
exit "$fail"

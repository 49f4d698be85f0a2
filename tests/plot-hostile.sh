#!/usr/bin/env bash
# tests/plot-hostile.sh DIR: bench/plot on runs whose output path, title, sweep values and model
# names hold quotes, semicolons, gnuplot's system(), backquotes and $(...): each is drawn (the
# values shown as text) or refused with a message, and nothing any of them says is run. Every
# file it makes is under DIR. Prints what failed; exit 0 when all held.
set -uo pipefail
tmp=$1
cd "$(dirname "$0")/.." || exit 2
ref=results/reference/book-scaled
evil="x'\"; \`touch $tmp/pwned-bq\`; \$(touch $tmp/pwned-dollar); system('touch $tmp/pwned-sys'); y='"
fail=0
no() { echo "plot-hostile: $*" >&2; fail=1; }
pwned() { compgen -G "$tmp/pwned*" >/dev/null; }
copy() { # name: a copy of the reference run under tmp
    rm -rf "${tmp:?}/$1" && mkdir -p "$tmp/$1" && cp -r "$ref"/run.json "$ref"/summary.json "$ref"/cells "$tmp/$1/"
}

# 1. The output directory: the issue's own example, and every kind of quote at once.
for out in "$tmp/x';system('touch /tmp/pwned-$$');y='" "$tmp/out-$evil"; do
    mkdir -p "$out" 2>/dev/null || { no "cannot make the directory $out"; continue; }
    bench/plot "$ref" "$out" >"$tmp/1.log" 2>&1 || no "not drawn into a strange directory: $(tail -n1 "$tmp/1.log")"
    [[ -s $out/throughput.svg ]] || no "no throughput.svg in $out"
done
if [[ -e /tmp/pwned-$$ ]]; then
    no "the output path ran gnuplot's system()"
    rm -f "/tmp/pwned-$$"
fi

# 2. The run's title: drawn, and shown as text.
copy title
jq --arg t "$evil: throughput" '.matrix.TITLE = $t' "$ref/run.json" >"$tmp/title/run.json"
bench/plot "$tmp/title" >"$tmp/2.log" 2>&1 || no "a strange title was not drawn: $(tail -n1 "$tmp/2.log")"
grep -q 'system(' "$tmp/title/plots/throughput.svg" || no "the title is not shown as text"

# 3. Swept values shown as tick labels (the sieve allocation, a category).
copy ticks
jq --arg v "$evil" '.configs |= map(.conc = 30 | .sieve = (if .model == "fork" then $v else "fresh" end))' \
    "$ref/summary.json" >"$tmp/ticks/summary.json"
jq '.suite = "ticks"' "$ref/run.json" >"$tmp/ticks/run.json" # not the book's tables
bench/plot "$tmp/ticks" >"$tmp/3.log" 2>&1 || no "strange tick labels were not drawn: $(tail -n1 "$tmp/3.log")"
grep -q 'pwned-dollar' "$tmp/ticks/plots/throughput.svg" || no "the tick label is not shown as text"

# 4. Model names in the summary and the cells: refused with a message.
copy models
jq --arg v "$evil" '.configs[0].model = $v' "$ref/summary.json" >"$tmp/models/summary.json"
if bench/plot "$tmp/models" >"$tmp/4.log" 2>&1; then
    no "a strange model name was drawn"
else
    grep -q 'not a model' "$tmp/4.log" || no "refused without saying why: $(tail -n1 "$tmp/4.log")"
fi
# A cell naming a model the summary does not: no file made from its name.
copy cells
f=$(find "$tmp/cells/cells" -name '*.json' | head -n1)
jq '.cell.model = "../../../escaped"' "$f" >"$f.new" && mv "$f.new" "$f"
bench/plot "$tmp/cells" >"$tmp/5.log" 2>&1 || no "a stray cell stopped the plots: $(tail -n1 "$tmp/5.log")"
[[ -z $(find "$tmp" -name 'escaped*') ]] || no "a file was named after a cell's model"

if pwned; then
    no "something ran: $(find "$tmp" -maxdepth 1 -name 'pwned*' | paste -sd ' ')"
fi
exit $fail

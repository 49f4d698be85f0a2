#!/usr/bin/env bash
# tests/run-hostile.sh DIR: bench/run --resume on run directories someone else wrote (values in
# run.json that would run a program, leave the directory or write nginx.conf; symbolic links
# planted where the run writes), and bench/run with its standard streams closed. Each hostile
# run is refused (exit 2, the cell and the key named, nothing run) or written without
# following a link. Every file it makes is under DIR. Prints what failed; exit 0 when all held.
set -uo pipefail
tmp=$1
cd "$(dirname "$0")/.." || exit 2
fail=0
no() { echo "run-hostile: $*" >&2; fail=1; }
small=(--models prethread --conc 1 --reps 1 --max-reps 1 --probe 0 --max-reruns 0
    --duration 0.3s --warmup 0 --no-plots)

bench/run smoke "${small[@]}" --out "$tmp/base" >"$tmp/base.log" 2>&1 || {
    no "the base run failed: $(tail -n1 "$tmp/base.log")"
    exit 1
}
id=$(basename "$(ls "$tmp"/base/cells/*.json)" .json)

# A copy of the base run with its cells gone (so --resume runs them) and run.json changed by a
# jq filter.
copy() { # name filter
    rm -rf "${tmp:?}/$1" && cp -r "$tmp/base" "$tmp/$1" && rm -f "$tmp/$1"/cells/* "$tmp/$1"/logs/*
    jq "$2" "$tmp/base/run.json" >"$tmp/$1/run.json"
}

# 1. Values read back go through the options' own checks; a model must be a registry row.
mkdir -p "$tmp/w"
printf '#!/bin/sh\ntouch %s/pwned\n' "$tmp" >"$tmp/w/evil-srv"
chmod 755 "$tmp/w/evil-srv"
evil_model=$(realpath --relative-to="$PWD/bin" "$tmp/w/evil")
n=0
while IFS=$'\t' read -r key filter; do
    n=$((n + 1))
    copy "bad$n" "$filter"
    rc=0
    bench/run --resume "$tmp/bad$n" --no-plots >"$tmp/bad$n.log" 2>&1 || rc=$?
    [[ $rc -eq 2 ]] || no "$filter: exit $rc, not 2"
    grep -q "cells\[0\]\.$key" "$tmp/bad$n.log" ||
        no "$filter: the refusal does not name cells[0].$key: $(tail -n1 "$tmp/bad$n.log")"
    [[ -z $(ls "$tmp/bad$n/cells") ]] || no "$filter: cells were run"
done <<EOF
model	.cells[0].model = "$evil_model"
model	.cells[0].model = "nosuchmodel"
conc	.cells[0].conc = "1/../../../outside"
backlog	.cells[0].backlog = "511; location ~ x { return 418; } } #"
backlog	.cells[0].model = "nginx" | .cells[0].backlog = "511; x"
lock	.cells[0].lock = {"a": 1}
rep	.cells[0].rep = -3
EOF
[[ ! -e $tmp/pwned ]] || no "a model read from run.json was run"
[[ -z $(find "$tmp" -name 'outside*') ]] || no "a cell was written outside its run"

# 2. A symbolic link planted where the run writes a cell is replaced, never followed.
copy link .
ln -s "$tmp/victim" "$tmp/link/cells/$id.json"
bench/run --resume "$tmp/link" --no-plots >"$tmp/link.log" 2>&1 || no "--resume over a planted link failed: $(tail -n1 "$tmp/link.log")"
[[ ! -e $tmp/victim ]] || no "the planted link cells/$id.json was followed"
[[ -f $tmp/link/cells/$id.json && ! -L $tmp/link/cells/$id.json ]] || no "cells/$id.json is not the run's own file"
jq -e . "$tmp/link/summary.json" >/dev/null 2>&1 || no "no summary after the planted link"
# The same where bench/plot draws: the links are replaced by the plots.
mkdir -p "$tmp/link/plots/data"
ln -s "$tmp/victim-svg" "$tmp/link/plots/percentiles.svg"
ln -s "$tmp/victim-dir" "$tmp/link/plots/data/throughput"
bench/plot "$tmp/link" >"$tmp/plotlink.log" 2>&1 || no "bench/plot over planted links failed: $(tail -n1 "$tmp/plotlink.log")"
[[ ! -e $tmp/victim-svg && ! -e $tmp/victim-dir ]] || no "bench/plot wrote through a planted link"
[[ -f $tmp/link/plots/percentiles.svg && ! -L $tmp/link/plots/percentiles.svg ]] ||
    no "plots/percentiles.svg is not the plot"
ln -s "$tmp" "$tmp/base/plots"
bench/plot "$tmp/base" >"$tmp/plotdir.log" 2>&1 && no "bench/plot drew through a planted plots/ link"
rm -f "$tmp/base/plots"
copy loglink .
ln -s "$tmp/victim-log" "$tmp/loglink/logs/$id.srv.out"
bench/run --resume "$tmp/loglink" --no-plots >"$tmp/loglink.log" 2>&1
[[ ! -e $tmp/victim-log ]] || no "the planted link logs/$id.srv.out was followed"

# 3. nginx's workers run as nobody: what they may write (its temp paths) is a directory of its
# own, and the error log copied into the run is the file nginx wrote, not what its name
# points to later. A wrapper for nginx tries, as nobody, once nginx has made its paths (its
# pid file is there), to put a link to a root-only file where the error log is.
if [[ $(id -u) -eq 0 ]] && command -v nginx >/dev/null && command -v wrk >/dev/null; then
    echo "root's secret" >"$tmp/secret" && chmod 600 "$tmp/secret"
    chmod 755 "$tmp"
    cat >"$tmp/nginx" <<WRAPPER
#!/bin/sh
dir=\$(dirname "\$2")
(
    i=0
    while [ ! -s "\$dir/nginx.pid" ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i + 1)); done
    for d in "\$dir" "\$dir"/temp; do
        setpriv --reuid nobody --regid nogroup --clear-groups ln -sf "$tmp/secret" "\$d/error.log" 2>/dev/null
    done
    : >"$tmp/tried"
) &
exec $(command -v nginx) "\$@"
WRAPPER
    chmod 755 "$tmp/nginx"
    BENCH_NGINX=$tmp/nginx bench/run smoke --models prethread --peers nginx --work 0 --bytes 10 \
        --conc 2 --reps 1 --max-reps 1 --probe 0 --max-reruns 0 --duration 1s --warmup 0 \
        --no-plots --out "$tmp/peer" >"$tmp/peer.log" 2>&1 ||
        no "the peer run failed: $(tail -n1 "$tmp/peer.log")"
    [[ -e $tmp/tried ]] || no "the wrapper did not try to plant the link"
    ! grep -qs "root's secret" "$tmp"/peer/logs/*.nginx.log ||
        no "a root-only file was copied into the run's logs"
fi

# 11. BYTES has the servers' bound for the peer too: refused before anything runs.
rc=0
bench/run smoke --models prethread --peers nginx --work 0 --bytes 50000000000 --reps 1 \
    --probe 0 --no-plots --out "$tmp/big" >"$tmp/big.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || no "--bytes 50000000000: exit $rc, not 2"
grep -q "1073741824" "$tmp/big.log" || no "--bytes 50000000000: the bound is not said: $(tail -n1 "$tmp/big.log")"
[[ ! -e $tmp/big ]] || no "--bytes 50000000000: a run directory was made"

# 4. A number that is a string: bench/report refuses the run, naming the file and the key.
rm -rf "$tmp/strs" && cp -r "$tmp/base" "$tmp/strs"
jq '.configs[0].stats.rps.ci95 = ["1", "2"]' "$tmp/base/summary.json" >"$tmp/strs/summary.json"
rc=0
bench/report "$tmp/strs" -o "$tmp/strs.html" >"$tmp/strs.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || no "bench/report on ci95 strings: exit $rc, not 2"
grep -q 'summary.json: .configs\[0\].stats.rps.ci95\[0\]' "$tmp/strs.log" ||
    no "bench/report does not name the key: $(tail -n1 "$tmp/strs.log")"
[[ ! -e $tmp/strs.html ]] || no "bench/report wrote a page of a malformed run"

# 6. SIGTERM at any instant ends the run with 130, and the run does not become -latest: 20
# random instants within a suite of four cells of a second each (so every one lands
# mid-run: starting a server, measuring, stopping it, summarising).
mkdir -p "$tmp/sig"
for _ in $(seq 20); do
    rm -rf "${tmp:?}"/sig/*
    at=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", rand() * 3.5 }')
    BENCH_RESULTS=$tmp/sig bench/run smoke --models "prethread iterative" --conc "1 2" --reps 1 \
        --max-reps 1 --probe 0 --max-reruns 0 --duration 1s --warmup 0 --no-plots \
        >"$tmp/sig.log" 2>&1 &
    pid=$!
    # from the moment bench/run's program runs (the shell wrapper before it is not ours)
    for _ in $(seq 1000); do [[ $(readlink "/proc/$pid/exe") == */bench-run ]] && break; done
    sleep "$at" # the instant: what is tested is every instant, not a time
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    [[ $rc -eq 130 ]] || no "SIGTERM $at s in: exit $rc, not 130 ($(tail -n1 "$tmp/sig.log"))"
    [[ ! -e $tmp/sig/smoke-latest ]] || no "SIGTERM $at s in: the run became smoke-latest"
done

# The same, landing where a signal was lost before: while bench/run waits for a server it told
# to stop. The server's wrapper takes SIGTERM slowly (a second and a half before passing it
# on) and says when it got it; bench/run gets its own SIGTERM then.
real=${BENCH_BIN:-$PWD/bin}
mkdir -p "$tmp/slowstop"
ln -sf "$real/loadgen" "$tmp/slowstop/loadgen"
cat >"$tmp/slowstop/prethread-srv" <<WRAPPER
#!/bin/bash
"$real/prethread-srv" "\$@" &
child=\$!
trap ': >"$tmp/stopping"; sleep 1.5; kill -TERM \$child' TERM
wait \$child
wait \$child
WRAPPER
chmod 755 "$tmp/slowstop/prethread-srv"
rm -rf "${tmp:?}"/sig/* "$tmp/stopping"
BENCH_BIN=$tmp/slowstop BENCH_RESULTS=$tmp/sig bench/run smoke --models prethread \
    --conc "1 2 3" --reps 1 --max-reps 1 --probe 0 --max-reruns 0 --duration 0.5s --warmup 0 \
    --no-plots >"$tmp/sig.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [[ -e $tmp/stopping ]] && break; sleep 0.05; done
[[ -e $tmp/stopping ]] || no "the wrapped server was never told to stop"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 130 ]] || no "SIGTERM while a server stops: exit $rc, not 130 ($(tail -n1 "$tmp/sig.log"))"
[[ ! -e $tmp/sig/smoke-latest ]] || no "SIGTERM while a server stops: the run became smoke-latest"

# 5. Every process is ours to end: bench/run (or bench/tune) killed with SIGKILL in the middle
# of a cell leaves no process of the run and nothing listening on the cell's port, for a
# model with children (prefork), a peer (nginx and its workers) and a tuning step.
# The binaries are reached through a directory of this test's own, so that its processes are
# told from any other by their command line.
mkdir -p "$tmp/kbin"
for f in "$real"/*; do ln -sf "$f" "$tmp/kbin/"; done
# live PATTERN: the pids of processes (not zombies) whose command line holds PATTERN (read
# with the shell's own builtins: a scan forks nothing)
live() {
    local p args stat st
    for p in /proc/[0-9]*; do
        mapfile -d '' args 2>/dev/null <"$p/cmdline" || continue
        [[ "${args[*]}" == *"$1"* ]] || continue
        stat=$(<"$p/stat") 2>/dev/null || continue
        st=${stat##*) }
        [[ ${st%% *} != Z ]] && echo "${p#/proc/}"
    done
}
listening() { ss -Hltn "sport = :$1" | grep -q .; }
# await_gone WHAT PORT PATTERN...: waits (at most 10 s) until no process matches and nothing
# listens on PORT
await_gone() {
    local what=$1 port=$2 pat left
    shift 2
    for _ in $(seq 100); do
        left=""
        for pat in "$@"; do left+=$(live "$pat"); done
        [[ -z $left ]] && ! listening "$port" && return 0
        sleep 0.1
    done
    no "$what: killed with SIGKILL, it left processes [$(echo "$left" | tr '\n' ' ')] or port $port listening"
}
# await_port PATTERN: waits (at most 60 s) until a process whose command line holds PATTERN
# runs, and prints the port it drives (loadgen's -p, wrk's URL)
await_port() {
    local p port
    for _ in $(seq 600); do
        for p in $(live "$1"); do
            port=$({ tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null |
                sed -n -e '/^-p$/{n;p;q}' -e 's|^http://127.0.0.1:\([0-9]*\)/x$|\1|p')
            [[ -n $port ]] && { echo "$port"; return 0; }
        done
        sleep 0.1
    done
    return 1
}

# kill_mid WHAT PID MARKER PATTERN...: once a process whose command line holds MARKER drives a
# port (the cell is measuring), SIGKILL PID; then no process matching a PATTERN ({port} in it
# stands for that port) may be left and nothing may listen on the port.
kill_mid() {
    local what=$1 pid=$2 marker=$3 port
    shift 3
    if port=$(await_port "$marker"); then
        { kill -KILL "$pid" && wait "$pid"; } 2>/dev/null
        await_gone "$what" "$port" "${@//\{port\}/$port}"
    else
        no "$what: the cell never started $marker"
        kill -KILL "$pid"
    fi
    wait "$pid" 2>/dev/null
}

BENCH_BIN=$tmp/kbin bench/run smoke --models prefork --conc 4 --reps 1 --max-reps 1 --probe 0 \
    --max-reruns 0 --duration 30s --warmup 0 --no-plots --out "$tmp/kill1" >/dev/null 2>&1 &
kill_mid "bench/run in a model's cell" $! "$tmp/kbin/loadgen" "$tmp/kbin/"

if command -v nginx >/dev/null && command -v wrk >/dev/null; then
    bench/run smoke --models prethread --peers nginx --work 0 --bytes 10 --conc 4 --reps 1 \
        --max-reps 1 --probe 0 --max-reruns 0 --duration 30s --warmup 0 --no-plots \
        --out "$tmp/kill2" >/dev/null 2>&1 &
    pid=$!
    kill_mid "bench/run in nginx's cell" "$pid" "http://127.0.0.1:" "cb-nginx-$pid-" "127.0.0.1:{port}/"
fi

BENCH_BIN=$tmp/kbin bench/tune prefork --quick --out "$tmp/kill3" >/dev/null 2>&1 &
kill_mid "bench/tune in a step" $! "$tmp/kbin/loadgen" "$tmp/kbin/" "--out $tmp/kill3"

# 10. Suite files and --fit files: a line of any length is read whole (a comment of 5,000
# characters ending in MODELS=fork is a comment), a NUL byte is an error with file:line, and
# every count has a bound that the error states.
mkdir -p "$tmp/root/bench/suites" "$tmp/root/servers"
cp servers/models "$tmp/root/servers/"
suite() { # name: bench-run --dry-run on suite name of the test's own root; output to $tmp/name.log
    BENCH_ROOT=$tmp/root BENCH_BIN=$real bin/bench-run "$1" --dry-run >"$tmp/$1.log" 2>&1
}
{
    printf '# %s MODELS=fork\n' "$(printf 'x%.0s' $(seq 5000))"
    printf 'MODELS=prethread\nCONC=1\nREPS=1\nMAX_REPS=1\nPROBE=0\n'
} >"$tmp/root/bench/suites/long"
suite long || no "a suite with a long comment line was refused: $(tail -n1 "$tmp/long.log")"
grep -q fork "$tmp/long.log" && no "the end of a long comment line was read as a field"
printf 'MODELS=prethread\nCONC=1\0garbage\n' >"$tmp/root/bench/suites/nul"
rc=0
suite nul || rc=$?
if ! { [[ $rc -ne 0 ]] && grep -q 'nul:2: a NUL byte' "$tmp/nul.log"; }; then
    no "a NUL byte in a suite: exit $rc, $(tail -n1 "$tmp/nul.log")"
fi
for reps in 100000000 999999999999999999; do
    printf 'MODELS=prethread\nCONC=1\nREPS=%s\n' "$reps" >"$tmp/root/bench/suites/reps"
    rc=0
    suite reps || rc=$?
    if ! { [[ $rc -eq 2 ]] && grep -q 'from 1 to 1000' "$tmp/reps.log"; }; then
        no "REPS=$reps: exit $rc, $(tail -n1 "$tmp/reps.log")"
    fi
done
printf '1 10\n2 1\0 90\n4 30\n' >"$tmp/fit"
rc=0
bench/tune --fit "$tmp/fit" >"$tmp/fit.log" 2>&1 || rc=$?
if ! { [[ $rc -eq 2 ]] && grep -q 'fit:2: a NUL byte' "$tmp/fit.log"; }; then
    no "a NUL byte in a --fit file: exit $rc, $(tail -n1 "$tmp/fit.log")"
fi

# 7. Closed standard streams change nothing: every cell still runs.
rc=0
bench/run smoke "${small[@]}" --out "$tmp/closed" >&- 2>"$tmp/closed.err" <&- || rc=$?
[[ $rc -eq 0 ]] || no "with stdout and stdin closed: exit $rc: $(tail -n1 "$tmp/closed.err")"
jq -e '[.configs[].failed] | add == 0' "$tmp/closed/summary.json" >/dev/null 2>&1 ||
    no "with stdout and stdin closed, cells failed"
exit $fail

# bash completion for loadgen, the servers (MODEL-srv) and bench/run.
# Installed by `make install` for loadgen and the servers; for bench/run in a checkout:
#   source completions/concurrency-bench.bash

_cb_loadgen() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    if [[ ${COMP_WORDS[1]:-} == merge ]] && ((COMP_CWORD > 1)); then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--json -h --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return
    fi
    case $prev in
    --json | --hdr-log | --hgrm | -U | --unix) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --close) COMPREPLY=($(compgen -W "fin rst" -- "$cur")); return ;;
    esac
    # The options, and which take a value, from loadgen's own --help (its table of options):
    # a line "  -c, --connections N    ..." names them, a value word (capitals, or a|b) after.
    local help opts takes
    help=$("${COMP_WORDS[0]}" --help 2>/dev/null)
    opts=$(awk '/^ +-/ { n = split($0, w, /[ ,]+/); for (i = 2; i <= n && w[i] ~ /^-/; i++) print w[i] }' <<<"$help")
    takes=$(awk '/^ +-/ { n = split($0, w, /[ ,]+/); for (i = 2; i <= n && w[i] ~ /^-/; i++) ;
        if (i <= n && w[i] ~ /^[A-Z]|[|]/) for (j = 2; j < i; j++) print w[j] }' <<<"$help")
    if [[ $prev == -* ]] && grep -qxF -- "$prev" <<<"$takes"; then
        return # a value of the user's own
    fi
    if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "merge" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _cb_loadgen loadgen

_cb_srv() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    case $prev in
    -U | --unix | -P | --pidfile | --stats) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
    --sieve-alloc) COMPREPLY=($(compgen -W "fresh reuse" -- "$cur")); return ;;
    --accept-lock) COMPREPLY=($(compgen -W "none mutex fcntl" -- "$cur")); return ;;
    --accept) COMPREPLY=($(compgen -W "self main pass" -- "$cur")); return ;;
    --balance) COMPREPLY=($(compgen -W "reuseport exclusive" -- "$cur")); return ;;
    --poller) COMPREPLY=($(compgen -W "epoll poll select" -- "$cur")); return ;;
    esac
    # The options this model takes, from its own --help.
    local opts
    opts=$("${COMP_WORDS[0]}" --help 2>/dev/null | grep -oE -- '(^|[ ,])--?[A-Za-z][a-z-]*' | tr -d ' ,' | sort -u)
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
# The models: the registry's names (bench/models, beside this file in a checkout); make
# install writes them here in place of the placeholder when it installs this file.
_cb_models="@MODELS@"
if [[ $_cb_models == *@* ]]; then
    _cb_models=$("$(dirname "${BASH_SOURCE[0]}")/../bench/models" names 2>/dev/null)
fi
for _cb_m in $_cb_models; do
    complete -F _cb_srv "$_cb_m-srv"
done
unset _cb_m

# bench/run: its options and their values from its table of dimensions (bench/run --options:
# the option, then a tab and the values it offers, for an option that takes one).
_cb_bench_run() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} root opts line
    root=$(dirname "$(dirname "${COMP_WORDS[0]}")")
    opts=$("$root/bench/run" --options 2>/dev/null) || return
    case $prev in
    --models)
        COMPREPLY=($(compgen -W "all kind=one kind=spawn kind=pool kind=event $("$root/bench/models" names 2>/dev/null)" -- "$cur"))
        return
        ;;
    --out | --resume) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    esac
    line=$(awk -F'\t' -v o="$prev" '$1 == o && NF > 1' <<<"$opts")
    if [[ -n $line ]]; then
        COMPREPLY=($(compgen -W "${line#*$'\t'}" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(cut -f1 <<<"$opts") --resume --dimensions -h --help" -- "$cur"))
    elif ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "$(ls "$root/bench/suites" 2>/dev/null)" -- "$cur"))
    fi
}
complete -F _cb_bench_run bench/run ./bench/run

# bench/tune: a model first (the registry's names), then its options (from its --help).
_cb_bench_tune() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} root
    root=$(dirname "$(dirname "${COMP_WORDS[0]}")")
    case $prev in
    --out) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --fit | --json) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --slo) COMPREPLY=($(compgen -W "p50= p90= p99= p999=" -- "$cur")); return ;;
    --work | --bytes | --mix | --think | --keep | --clients | --workers | --backlogs | --reps | \
        --bursts | --duration) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($("$root/bench/tune" --help 2>/dev/null | grep -oE -- '^ +(-h, )?--[a-z-]+' |
            tr -d ' ' | tr ',' '\n' | sort -u | grep -- "^$cur"))
    elif ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "$("$root/bench/models" names 2>/dev/null)" -- "$cur"))
    fi
}
complete -F _cb_bench_tune bench/tune ./bench/tune

# summary.jq: cells (an array of bench/run cell files, jq -s) to one summary per configuration
# (every cell field but the repetition), over the repetitions that ran:
#   median, mean, stddev (sample), cv (stddev / mean), min and max of
#   rps, p50_us, p99_us, p999_us (total latency), cpu_ms_per_req (server user + system time
#   over the requests it served), elapsed_s, server_cpu_s, greeting_mean_us, listen_overflows,
#   max_rss_kb (the server's peak RSS: for models with child processes, the largest single
#   process) and rss_kb_per_conn (that over the client's concurrent connections),
#   cpu_user_ms_per_req and cpu_sys_ms_per_req (the split), minflt_per_req (page faults),
#   client_cpu_ms_per_req (loadgen's, or wrk's for a peer, CPU per request: this machine's
#   reaped children over the cell), machine_cpu_ms_per_req (the busy time of every CPU of the
#   machine, from /proc/stat over the cell's window, per request: on loopback the softirq
#   work lands on whichever of server and client runs, so their split moves while this sum
#   holds), busiest_loop_share (models with several loops: the share
#   of connections the busiest one took),
#   peak_workers, in_flight (requests under way at the end), clients_served (of the
#   client's connections, those answered at least once: a pool serves -w kept ones),
#   idle_reopened, due_not_sent and target_rps (open loop), and with request classes (--mix)
#   small_p99_us and large_p99_us (the total p99 of the class with the least and the most
#   WORK); for rps, p50_us and p99_us also ci95, the 95% interval of the median (order
#   statistics; below 6 repetitions the range, which covers less: ci_level says how much),
#   and ci_pct, its larger distance from the median in percent of it. Those come from
#   bench/run --summary-stats (jq --slurpfile iv), keyed by the cells' id without "-rN".
# verdicts (from bench/run --verdicts, jq --slurpfile vd): for each configuration the suite
# varies beside the model (the same keys as configs, without a model's own settings), the
# ranking by median throughput (each model with ratio_to_best, its paired interval ratio_ci,
# n and group: the models not told apart share one) and the neighbours' pairs (a, b, metric
# rps or p99_us, ratio a/b, ci, n, level, verdict faster | slower | equivalent | undecided).
# samples: each repetition's rps, p50_us and p99_us (for bench/compare). Beside the median,
# best: the best repetition's throughput (highest) and p50 and p99
# (lowest), since interference only ever slows a run. Failed and skipped cells are counted and
# their errors (reasons) kept; reruns counts the cells run again because something else took
# the CPU, disturbed the repetitions kept although disturbed, interference the worst of it; a
# configuration whose throughput interval is wider than +-target_ci% of its median (jq
# --argjson target_ci, default 5) is flagged noisy, with a noise_cause.

include "stats";

# The repetitions' interval of the median, for these metrics: from bench/run --summary-stats.
def booted: ["rps", "p50_us", "p99_us"];
def intervals($key): ($ARGS.named.iv // [{}])[0][$key] // {};
# $ARGS.named.target_ci: the run's --target-ci (default 5): a configuration whose throughput
# interval is wider than +-target_ci% of its median is noisy.
def target_ci: $ARGS.named.target_ci // 5;

# $rank: the registry's order, {"iterative": 0, ...} (bench/models rank); others come last.
def model_rank: $rank[.] // 99;

def metrics: {
    rps: .loadgen.totals.rps,
    p50_us: .loadgen.latency_us.total.p50,
    p99_us: .loadgen.latency_us.total.p99,
    p999_us: .loadgen.latency_us.total.p999,
    cpu_ms_per_req: (if (.server.requests // 0) > 0
        then (.server.utime_s + .server.stime_s) / .server.requests * 1000 else null end),
    cpu_user_ms_per_req: (if (.server.requests // 0) > 0
        then .server.utime_s / .server.requests * 1000 else null end),
    cpu_sys_ms_per_req: (if (.server.requests // 0) > 0
        then .server.stime_s / .server.requests * 1000 else null end),
    minflt_per_req: (if (.server.requests // 0) > 0 and .server.minflt != null
        then .server.minflt / .server.requests else null end),
    peak_workers: .server.peak_workers,
    in_flight: .loadgen.totals.in_flight_at_end,
    clients_served: .loadgen.totals.clients_served,
    idle_reopened: .loadgen.totals.idle_reopened,
    due_not_sent: .loadgen.totals.due_not_sent,
    target_rps: .target_rps,
    small_p99_us: (.loadgen.latency_us_by_class // [] | min_by(.work)
        | if (.total.count? // 0) > 0 then .total.p99 else null end),
    large_p99_us: (.loadgen.latency_us_by_class // [] | max_by(.work)
        | if (.total.count? // 0) > 0 then .total.p99 else null end),
    server_cpu_s: (if .server then .server.utime_s + .server.stime_s else null end),
    client_cpu_ms_per_req: (if (.interference.client_cpu_s // null) != null
        and (.loadgen.totals.requests_ok // 0) > 0
        then .interference.client_cpu_s / .loadgen.totals.requests_ok * 1000 else null end),
    machine_cpu_ms_per_req: (if (.interference.busy_cpu_s // null) != null
        and (.loadgen.totals.requests_ok // 0) > 0
        then .interference.busy_cpu_s / .loadgen.totals.requests_ok * 1000 else null end),
    busiest_loop_share: (.server.per_worker_connections // null
        | if . != null and length > 1 and add > 0 then max / add else null end),
    elapsed_s: .loadgen.totals.elapsed_s,
    greeting_mean_us: .loadgen.latency_us.greeting.mean,
    listen_overflows: .kernel.listen_overflows,
    max_rss_kb: .server.max_rss_kb,
    rss_kb_per_conn: (if .server.max_rss_kb then .server.max_rss_kb / .cell.conc else null end),
    errors: ([.loadgen.errors[]?] | add // 0)
};

{
  schema_version: 1,
  verdicts: ($vd[0] // [] | sort_by(.conc, .work, .bytes, .backlog, .idle, .think, .keep, .rate_pct)),
  configs: (
    group_by(.cell | del(.rep) | tojson)
    | map(
        (map(select(.status == "ok"))) as $ok
        | ($ok | map(metrics)) as $ms
        | ($ok | sort_by(.loadgen.totals.rps)) as $by_rps
        | ($by_rps[($by_rps | length - 1) / 2 | floor]) as $mid
        | (.[0].cell | del(.rep)) + {
            reps: length,
            failed: (map(select(.status == "failed")) | length),
            skipped: (map(select(.status == "skipped")) | length),
            errors_seen: [.[] | select(.status != "ok") | .error] | unique,
            stats: ($ms | if length == 0 then {} else
                (.[0] | keys) as $k
                | ($ok[0].id | sub("-r[0-9]+$"; "")) as $cfg
                | reduce $k[] as $key ({};
                    .[$key] = ([$ms[][$key]] | describe
                               | if . != null and (booted | index([$key])) then
                                     . + (intervals($cfg)[$key] // {}) else . end)) end),
            samples: {rps: [$ms[].rps], p50_us: [$ms[].p50_us], p99_us: [$ms[].p99_us],
                      rep: [$ok[].cell.rep]},
            best: (if ($ok | length) == 0 then null else
                {rps: ($ms | map(.rps) | max), p50_us: ($ms | map(.p50_us) | min),
                 p99_us: ($ms | map(.p99_us) | min),
                 rep: ($by_rps[-1].cell.rep)} end),
            reruns: (map(.reruns // 0) | add),
            disturbed: ($ok | map(select(.interference.disturbed // false)) | length),
            interference: (if any($ok[]; .interference != null) then
                {foreign_cpu_pct_max: ([$ok[].interference.foreign_cpu_pct // empty] | max),
                 steal_pct_max: ([$ok[].interference.steal_pct // empty] | max),
                 cpu_pressure_pct_median: ([$ok[].interference.cpu_pressure_pct // empty]
                                           | median)} else null end),
            median_rep: ($mid.cell.rep // null),
            target_ci_pct: target_ci,
            spectrum: ($mid.loadgen.latency_us.total.spectrum // []),
            timeline: ($mid.loadgen.timeline // []),
            waits_ms: (if ($mid.loadgen.requests // null) != null
                       and ($mid.loadgen.requests | length) <= 1000
                then [$mid.loadgen.requests[] | select(.greeting_us != null)
                      | .greeting_us / 1000] | sort
                else null end)
          })
    | map(.stats.rps.ci_pct as $w
        | .noisy = ($w != null and $w > target_ci)
        | .noise_cause = (if .noisy | not then null
            elif .disturbed > 0 then
                "\(.disturbed) repetition(s) kept although disturbed (foreign CPU up to \(.interference.foreign_cpu_pct_max | round)% of a core, steal up to \(.interference.steal_pct_max * 10 | round / 10)%)"
            elif (.interference.steal_pct_max // 0) > 0.5 then
                "hypervisor steal up to \(.interference.steal_pct_max * 10 | round / 10)% in some repetitions"
            else
                "+-\(.stats.rps.ci_pct | round)% over \(.stats.rps.n) repetitions (throughput \(.stats.rps.min | round) to \(.stats.rps.max | round) req/s)"
                + (if .stats.rps.n >= ($ARGS.named.max_reps // 10) then ", the most allowed (--max-reps)"
                   elif ($ARGS.named.max_reps // 10) > ($ARGS.named.min_reps // 10) then
                       ", when the budget for further repetitions ran out (--budget)"
                   else "" end)
                + ", with no interference seen"
                + (if $ARGS.named.floor_cv != null then
                     "; this machine's own speed varies (noise floor: CV \($ARGS.named.floor_cv)%)"
                   else "" end)
            end))
    | sort_by((.model | model_rank), .conc, .work, .bytes, .backlog, (.workers // 0), .lock,
              (.accept // "self"), (.spare // "-"), (.poller // "-"), (.sieve // "fresh"),
              (.idle // 0), (.think // "0"), (.keep // 1), (.rate_pct // 0)))
}

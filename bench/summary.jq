# summary.jq: cells (an array of bench/run cell files, jq -s) to one summary per configuration
# (every cell field but the repetition), over the repetitions that ran:
#   median, mean, stddev (sample), cv (stddev / mean), ci95 ([lo, hi], Student's t) of
#   rps, p50_us, p99_us, p999_us (total latency), cpu_ms_per_req (server user + system time
#   over the requests it served), elapsed_s, server_cpu_s, greeting_mean_us, listen_overflows,
#   max_rss_kb (the server's peak RSS: for models with child processes, the largest single
#   process) and rss_kb_per_conn (that over the client's concurrent connections),
#   cpu_user_ms_per_req and cpu_sys_ms_per_req (the split), minflt_per_req (page faults),
#   peak_workers, in_flight (requests under way at the end), clients_served (of the
#   client's connections, those answered at least once: a pool serves -w kept ones),
#   idle_reopened, due_not_sent and target_rps (open loop), and with request classes (--mix)
#   small_p99_us and large_p99_us (the total p99 of the class with the least and the most
#   WORK); failed and skipped cells are counted and their errors (reasons) kept; a
#   configuration whose rps varies by more than 10% (cv > 0.10) is flagged noisy.

def median: sort | if length == 0 then null
    elif length % 2 == 1 then .[(length - 1) / 2]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def mean: if length == 0 then null else add / length end;
def stddev: if length < 2 then 0
    else mean as $m | (map((. - $m) * (. - $m)) | add) / (length - 1) | sqrt end;
# Two-sided 95% critical values of Student's t for 1..30 degrees of freedom.
def tcrit: [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
             2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
             2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042][. - 1] // 1.960;
def round6: (. * 1000000 | round) / 1000000;
def describe: map(select(. != null)) |
    if length == 0 then null else
    (mean) as $m | (stddev) as $s | length as $n |
    (if $n > 1 then ($n - 1 | tcrit) * $s / ($n | sqrt) else 0 end) as $h |
    {n: $n, median: (median | round6), mean: ($m | round6), stddev: ($s | round6),
     cv: (if $m == 0 then 0 else ($s / $m | round6) end),
     ci95: [($m - $h | round6), ($m + $h | round6)], min: min, max: max} end;

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
    elapsed_s: .loadgen.totals.elapsed_s,
    greeting_mean_us: .loadgen.latency_us.greeting.mean,
    listen_overflows: .kernel.listen_overflows,
    max_rss_kb: .server.max_rss_kb,
    rss_kb_per_conn: (if .server.max_rss_kb then .server.max_rss_kb / .cell.conc else null end),
    errors: ([.loadgen.errors[]?] | add // 0)
};

{
  schema_version: 1,
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
            noisy: (($ms | map(.rps) | describe | .cv // 0) > 0.10),
            stats: ($ms | if length == 0 then {} else
                (.[0] | keys) as $k
                | reduce $k[] as $key ({}; .[$key] = ([$ms[][$key]] | describe)) end),
            median_rep: ($mid.cell.rep // null),
            spectrum: ($mid.loadgen.latency_us.total.spectrum // []),
            waits_ms: (if ($mid.loadgen.requests // null) != null
                       and ($mid.loadgen.requests | length) <= 1000
                then [$mid.loadgen.requests[] | select(.greeting_us != null)
                      | .greeting_us / 1000] | sort
                else null end)
          })
    | sort_by((.model | model_rank), .conc, .work, .bytes, .backlog, (.workers // 0), .lock,
              (.accept // "self"), (.spare // "-"), (.poller // "-"), (.sieve // "fresh"),
              (.idle // 0), (.think // "0"), (.rate_pct // 0)))
}

# table.jq: a run's summary as the plain table the comparison scripts print (bench/events,
# bench/loadgen-vs-wrk, bench/compare-models): one row per configuration, labelled by its
# model and what varies in the run, with the medians of throughput, p99, errors, server and
# client CPU per request, the server's peak RSS (and per connection), the busiest loop's share
# of connections where there are loops, and throughput and server CPU per request as ratios
# to the first row. Skipped and failed configurations say why.
def num($d): if . == null then "-" else (. * $d | round) / $d | tostring end;
def pad($n): tostring | if length >= $n then . else (" " * ($n - length)) + . end;
def lpad($n): tostring | if length >= $n then . else . + (" " * ($n - length)) end;
.configs as $C
| ["conc", "work", "bytes", "backlog", "workers", "lock", "accept", "spare", "poller", "sieve",
   "idle", "think", "keep", "rate_pct", "server_cpus", "client_cpus"] as $fields
| [$fields[] as $f | select(($C | map(.[$f]) | unique | length) > 1) | $f] as $vary
# A field at its default says nothing: accept self (or reuseport for reuseport-srv), no lock, a
# fixed pool, the default poller, a fresh sieve, no idle clients or think time, -k 1.
| {accept: ["self", "reuseport"], lock: ["none"], spare: ["-"], poller: ["-"], sieve: ["fresh"],
   idle: [0], think: ["0"], keep: [1], server_cpus: [null], client_cpus: [null]} as $default
| def cfglabel: . as $c
    | ([$c.model] + [$vary[] as $f | select($c[$f] != null)
                     | select($default[$f] // [] | index([$c[$f]]) | not) | "\($f) \($c[$f])"])
    | join(", ");
  ($C[0].stats.rps.median // null) as $base_rps
| ($C[0].stats.cpu_ms_per_req.median // null) as $base_cpu
| (["configuration" | lpad(44)] + (["req/s", "p99 ms", "errors", "srv us/req", "cli us/req",
    "max RSS KiB", "KiB/conn", "busiest", "req/s x", "CPU x"] | map(pad(11))) | join(" ")),
  ($C[] | . as $c
   | if ($c.stats.rps // null) == null then
       "\($c | cfglabel | lpad(44)) \(if $c.skipped > 0 then "skipped" else "failed" end): \($c.errors_seen | join("; "))"
     else
       ([($c | cfglabel | lpad(44)), ($c.stats.rps.median | num(1) | pad(11)),
         ($c.stats.p99_us.median | if . then . / 1000 else . end | num(100) | pad(11)),
         ($c.stats.errors.median | num(1) | pad(11)),
         ($c.stats.cpu_ms_per_req.median | if . then . * 1000 else . end | num(100) | pad(11)),
         ($c.stats.client_cpu_ms_per_req.median // null | if . then . * 1000 else . end | num(100) | pad(11)),
         ($c.stats.max_rss_kb.median | num(1) | pad(11)),
         ($c.stats.rss_kb_per_conn.median | num(100) | pad(11)),
         ($c.stats.busiest_loop_share.median // null | if . then "\(. * 100 | round)%" else "-" end | pad(11)),
         (if $base_rps then $c.stats.rps.median / $base_rps else null end | num(100) | pad(11)),
         (if $base_cpu and $c.stats.cpu_ms_per_req.median then $c.stats.cpu_ms_per_req.median / $base_cpu else null end | num(100) | pad(11))]
        | join(" "))
     end)

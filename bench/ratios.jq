# ratios.jq: the two comparisons bench/events makes of a run of its keep-alive or connect
# suite, per connection count: each event model's and nginx's server CPU per request over
# reactor-srv's, and loadgen's client CPU per request (driving reactor-srv) over wrk's
# (driving nginx with one worker: both servers one thread over epoll, since on loopback a
# client pays for its server's receive work and wake-ups). Medians of the run's cells, per
# connection count and -k; a configuration without figures (skipped, failed) is left out.
def r2: (. * 100 | round) / 100 | tostring;
def med($c; $f): $c.stats[$f].median // null;
[.configs[] | select((.stats.rps // null) != null)] as $C
| ($C | map({conc, keep: (.keep // 1)}) | unique) as $concs
| ($concs | map(.keep) | unique | length > 1) as $keeps
| def at($m; $n): [$C[] | select(.model == $m and .conc == $n.conc and (.keep // 1) == $n.keep)][0]
      // null;
  def where($n): "at \($n.conc)\(if $keeps then " -k \($n.keep)" else "" end)";
  def name($m): if $m == "nginx" then "nginx, 1 worker" elif $m == "nginx-cpus" then
      "nginx, a worker per CPU" else "\($m)-srv" end;
  ([$C[].model] | unique | map(select(. != "reactor"))) as $others
| ($others[] as $m
   | [$concs[] as $n | (at($m; $n)) as $a | (at("reactor"; $n)) as $b
      | select($a != null and $b != null
               and med($a; "cpu_ms_per_req") != null and med($b; "cpu_ms_per_req") != null)
      | "\(med($a; "cpu_ms_per_req") / med($b; "cpu_ms_per_req") | r2)x \(where($n))"]
   | select(length > 0)
   | "server CPU per request, \(name($m)) / reactor-srv: \(join(", "))"),
  ([$concs[] as $n | (at("reactor"; $n)) as $l | (at("nginx"; $n)) as $w
    | select($l != null and $w != null and med($l; "client_cpu_ms_per_req") != null
             and med($w; "client_cpu_ms_per_req") != null)
    | "\(med($l; "client_cpu_ms_per_req") / med($w; "client_cpu_ms_per_req") | r2)x \(where($n)) (\(med($l; "client_cpu_ms_per_req") * 1000 | . * 10 | round / 10) against \(med($w; "client_cpu_ms_per_req") * 1000 | . * 10 | round / 10) us)"]
   | select(length > 0)
   | "client CPU per request, loadgen (reactor-srv) / wrk (nginx, 1 worker): \(join(", "))")

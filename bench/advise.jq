# advise.jq: bench/advise's decisions, its answer, its page and its lines (jq -L bench
# 'include "advise"; ...'). Every value of a run reaches the page through @html.

def med: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def r1: if . == null then null else . * 10 | round / 10 end;
def r3: if . == null then null else . * 1000 | round / 1000 end;
def us: if . == null then "?" elif . >= 1e6 then "\(. / 1e4 | round / 100) s"
    elif . >= 1000 then "\(. / 100 | round / 10) ms" else "\(. | round) us" end;
def pct: . * 1000 | round / 10;

# What the kind of a model says of why it does not serve everyone.
def unserved_cause($kind):
    {one: "it serves one client at a time and the others wait for the whole cell",
     pool: "each of its workers holds a connection until that client leaves"}[$kind // ""] // null;

# The screening's decision: $s the summary, $t each model's target percentiles (median, min,
# max, n over its cells), $o bench/advise's terms (slo_pct, slo_us, cls_pct, cls_us, rate,
# conc, kinds: model to kind). Each model kept or dropped with its measured reason; the
# leaders (the best kept model and those not told apart from it, at most three); the pick
# among them by the tie-break.
def decide($s; $t; $o):
  $o.slo_pct as $slo_pct | $o.slo_us as $slo_us | $o.cls_pct as $cls_pct | $o.cls_us as $cls_us
  | $o.rate as $rate | $o.conc as $conc | $o.kinds as $kinds
  | ($s.verdicts // [] | .[0]) as $v
  | [$s.configs[] | select(.model | endswith("~aa") | not)] as $cfgs
  | [($v.ranking // [])[].model] as $order
  | ($cfgs | map(.model) | map(select(. as $m | $order | index([$m]) | not))) as $unranked
  | [$cfgs[] | . as $c | .stats as $st | ($t[$c.model] // {}) as $tg
     | ($st.rps.n // 0) as $n
     | ($st.rps.median // 0) as $rps
     | (($st.rps.median // 0) * ($st.elapsed_s.median // 0)) as $reqs
     | ($st.errors.median // 0) as $err
     | ($st.clients_served.median // null) as $served
     | ($v.ranking // [] | map(select(.model == $c.model)) | .[0]) as $rk
     | {model: $c.model, n: $n, rps: $st.rps.median, rps_ci: $st.rps.ci95,
        rps_ci_level: $st.rps.ci_level, p99_us: $st.p99_us.median,
        cpu_ms_per_req: $st.cpu_ms_per_req.median, rss_kb_per_conn: $st.rss_kb_per_conn.median,
        client_cpu_ms_per_req: $st.client_cpu_ms_per_req.median,
        listen_overflows: $st.listen_overflows.median,
        workers: $c.workers, backlog: $c.backlog,
        target: $tg.slo, class_target: $tg.cls,
        ratio_to_best: $rk.ratio_to_best, ratio_ci: $rk.ratio_ci, group: $rk.group,
        reason: (
          if $n == 0 then
              (if $c.skipped > 0 and $c.failed == 0 then "skipped: " else "failed: " end)
              + ($c.errors_seen[0] // "no cell ran")
          elif $reqs + $err > 0 and $err / ($reqs + $err) > 0.01 then
              "\($err / ($reqs + $err) | pct)% of its requests failed (\($err) a cell, the median)"
          elif $rate == null and $served != null and $served < $conc then
              "served \($served) of \($conc) clients in a whole cell"
              + (unserved_cause($kinds[$c.model]) | if . then ": \(.)" else "" end)
          elif $rate != null and $rps < 0.9 * $rate then
              "carried \($rps | r1) of the \($rate) requests a second asked (\($rps / $rate | pct)%)"
          elif $slo_pct != "" and $tg.slo != null and $tg.slo.median > 2 * $slo_us then
              "\($slo_pct) \($tg.slo.median | us) against the \($slo_us | us) target"
          elif $cls_pct != "" and $tg.cls != null and $tg.cls.median > 2 * $cls_us then
              "the smallest class's \($cls_pct) \($tg.cls.median | us) against the \($cls_us | us) target"
          else null end),
        misses: (($slo_pct != "" and ($tg.slo == null or $tg.slo.median > $slo_us))
                 or ($cls_pct != "" and ($tg.cls == null or $tg.cls.median > $cls_us)))}] as $all
  | ($order + $unranked) as $rank
  | [$rank[] as $m | $all[] | select(.model == $m)] as $ranked
  | [$ranked[] | select(.reason == null)] as $kept
  | ([$kept[] | select(.misses | not)] | if length > 0 then . else $kept end) as $pool
  | ($pool[0] // null) as $best
  | (if $best == null then []
     else [$pool[] | select(.group != null and .group == $best.group)]
          | if length == 0 then [$best] else . end
          # an open loop: every model that carries the rate is tied on throughput, and the
          # tie-break's order (less CPU per request first) says which three to size
          | if $rate != null then sort_by(.cpu_ms_per_req // 1e18) else . end | .[:3] end) as $leaders
  | (if ($leaders | length) < 2 then {pick: $best.model, order: [$leaders[].model], tie_break: null}
     else
       ($leaders | sort_by(.cpu_ms_per_req // 1e18)) as $byc
       | if ($byc[0].cpu_ms_per_req != null and $byc[1].cpu_ms_per_req != null
             and $byc[1].cpu_ms_per_req > 1.05 * $byc[0].cpu_ms_per_req) then
           {pick: $byc[0].model, order: [$byc[].model],
            tie_break: "not told apart on throughput; \($byc[0].model)-srv spends less CPU per request (\($byc[0].cpu_ms_per_req | r3) ms against \($byc[1].cpu_ms_per_req | r3) ms for \($byc[1].model)-srv)"}
         else
           ([$byc[] | select((.cpu_ms_per_req // 1e18) <= 1.05 * ($byc[0].cpu_ms_per_req // 1e18))]
            | sort_by(.rss_kb_per_conn // 1e18)) as $bym
           | ([$byc[] | select(. as $x | $bym | map(.model) | index([$x.model]) | not)]) as $more
           | {pick: $bym[0].model, order: ([$bym[].model] + [$more[].model]),
              tie_break: "not told apart on throughput; CPU per request within 5% (\([$bym[] | "\(.model)-srv \(.cpu_ms_per_req | r3) ms"] | join(", ")))\(if ($more | length) > 0 then ", more for \([$more[] | "\(.model)-srv (\(.cpu_ms_per_req | r3) ms)"] | join(", "))" else "" end); \($bym[0].model)-srv holds less memory per connection (\([$bym[] | "\(.model)-srv \(.rss_kb_per_conn | r1) KiB"] | join(", ")))"}
         end
     end) as $choice
  | {paired_by: $v.paired_by, level: ([$v.pairs // [] | .[] | .level | numbers] | max),
     candidates: $ranked, leaders: [$leaders[].model], pick: $choice.pick,
     # the kept models in the order the answer prefers them: the leaders by the tie-break,
     # then the others by the ranking
     preferred: ($choice.order + [$pool[].model, $kept[].model] | reduce .[] as $x ([];
         if index([$x]) then . else . + [$x] end)),
     tie_break: $choice.tie_break,
     none_meets: (($slo_pct != "" or $cls_pct != "") and
        ([$kept[] | select(.misses | not)] | length) == 0 and ($kept | length) > 0),
     pairs: [$v.pairs // [] | .[] | select(.metric == "rps")]};

# The whole answer: the decision $d, the sizing ($tunes: model, dir, recommended or error),
# the machine, the workload, the leaders left unsized, the screening's directory.
def answer($d; $tunes; $machine; $workload; $unsized; $screen; $bin; $quick; $slo; $class_slo;
           $elapsed):
  ($d.candidates | map(select(.model == $d.pick)) | .[0]) as $rec
  | ($tunes | map(select(.model == $d.pick)) | .[0]) as $tu
  | ($rec.model // null) as $m
  | ($d.candidates | map(select(.model == ($d.leaders[0] // ""))) | .[0].group // null) as $g0
  # -w stays where the screening measured it with a target or an open loop (bench/tune sizes
  # -w for closed-loop throughput), or slow readers or idle connections (which bench/tune does
  # not make); -b too with idle connections, which all connect at the start
  | ($slo != "" or $class_slo != "" or $workload.rate != null or $workload["read-rate"] != null
     or (($workload.idle // "0") != "0")) as $kept_w
  | (($workload.idle // "0") != "0") as $kept_b
  | (if $tu.recommended and ($kept_w | not) then $tu.recommended.workers else $rec.workers end) as $w
  | (if $tu.recommended and ($kept_b | not) then $tu.recommended.backlog else $rec.backlog end) as $b
  | ([[$d.preferred[] | select(. != $m)][0] as $x | $d.candidates[] | select(.model == $x)]
     | .[0]) as $ru
  | ($d.pairs | map(select((.a == $m and .b == $ru.model) or (.a == $ru.model and .b == $m)))
     | .[0]) as $pr
  | ($slo | if . == "" then null else split("=")[0] end) as $tp
  | ($class_slo | if . == "" then null else split("=")[0] end) as $ctp
  # never an answer from fewer blocks than a verdict needs (cells of the leader failed)
  | ($rec != null and ($rec.n // 0) < 6) as $few
  | {schema_version: 1, workload: $workload, slo: (if $slo == "" then null else $slo end),
     class_slo: (if $class_slo == "" then null else $class_slo end), quick: ($quick == 1),
     elapsed_s: $elapsed,
     no_answer: (if $m == null then "no model is kept for this workload: every one was dropped"
                  elif $few then "\($m)-srv leads, but from \($rec.n) blocks, fewer than the 6 a verdict needs (its other cells failed: see the screening)"
                  else null end),
     recommended: (if $m == null or $few then null else
       {model: $m, workers: $w, backlog: $b,
        command: ([("\($bin)/\($m)-srv"), (if $w != null then "-w \($w)" else empty end),
                   (if $b != null then "-b \($b)" else empty end)] | join(" ")),
        sized: ($tu.recommended != null),
        workers_from: (if $w == null then null elif $tu.recommended and ($kept_w | not) then "tune"
                       else "screen" end),
        backlog_from: (if $tu.recommended and ($kept_b | not) then "tune" else "screen" end),
        tuned_workers: ($tu.recommended.workers // null),
        rps: $rec.rps, rps_ci: $rec.rps_ci, rps_ci_level: $rec.rps_ci_level, blocks: $rec.n,
        target_percentile: $tp, target_us: ($rec.target.median // null),
        target_range_us: (if $rec.target then [$rec.target.min, $rec.target.max] else null end),
        class_target_percentile: $ctp, class_target_us: ($rec.class_target.median // null),
        class_target_range_us: (if $rec.class_target then [$rec.class_target.min, $rec.class_target.max]
                                else null end),
        p99_us: $rec.p99_us, cpu_ms_per_req: $rec.cpu_ms_per_req,
        tuned: (if $tu.recommended.rps then {rps: $tu.recommended.rps, p99_us: $tu.recommended.p99_us}
                else null end),
        meets_target: ($rec.misses | not),
        why: (if $d.tie_break then $d.tie_break
              elif ($d.leaders | length) == 1 and $ru then "decided faster than every other model kept"
              else "the only model kept" end)} end),
     runner_up: (if $ru == null or $m == null then null else
       {model: $ru.model, rps: $ru.rps, cpu_ms_per_req: $ru.cpu_ms_per_req,
        ratio: (if $pr then (if $pr.a == $m then 1 / $pr.ratio else $pr.ratio end | r3)
                else (if $rec.rps > 0 then $ru.rps / $rec.rps | r3 else null end) end),
        ci: (if $pr and $pr.ci then (if $pr.a == $m then [1 / $pr.ci[1], 1 / $pr.ci[0]] else $pr.ci end | map(r3))
             else null end),
        verdict: (if $pr then (if $pr.a == $m then {faster: "slower", slower: "faster"}[$pr.verdict] // $pr.verdict
                               else $pr.verdict end) else null end)} end),
     candidates: [$d.candidates[] | select(.reason == null)
       | {model, rps, rps_ci, p99_us, cpu_ms_per_req, rss_kb_per_conn, target_us: (.target.median // null),
          class_target_us: (.class_target.median // null), ratio_to_best, ratio_ci,
          verdict: (.model as $x | if $x == $m then "recommended"
                    elif .misses then "misses the target"
                    elif ($d.leaders | index([$x])) then "not told apart"
                    # an open loop: tied on throughput with the leaders, behind them on CPU
                    elif $workload.rate != null and .group != null and .group == $g0 then
                        "carries the rate, more CPU per request"
                    else "slower" end)}],
     dropped: [$d.candidates[] | select(.reason != null) | {model, reason}],
     none_meets_target: $d.none_meets,
     undecided: [$d.pairs[] | select(.verdict == "undecided")
       | select(. as $p | [$d.candidates[] | select(.reason == null) | .model] | index([$p.a]) and index([$p.b]))
       | "\(.a)-srv and \(.b)-srv (\(.n) blocks)"],
     unsized: $unsized,
     sizing: [$tunes[] | {model, dir, error: (.error // null), recommended: (.recommended // null)}],
     machine: $machine,
     limits: ([
       (if ($rec.listen_overflows // 0) > 0 then "the listen queue overflowed (\($rec.listen_overflows) a cell): a larger net.core.somaxconn (now \($machine.somaxconn)) and -b would change the answer" else empty end),
       ((($workload.conc // "32") | tonumber) + (($workload.idle // "0") | tonumber)) as $fds
       | ($machine.nofile | tonumber? // null) as $nf
       | (if $nf != null and $fds * 2 > $nf * 0.8 then "open files: \($fds) connections against a limit of \($nf) descriptors (ulimit -n) for client and server each" else empty end),
       (if $rec.client_cpu_ms_per_req != null and $rec.rps != null and $rec.client_cpu_ms_per_req * $rec.rps / 1000 > 0.5 * $machine.cpus then "the client's CPU: loadgen used \($rec.client_cpu_ms_per_req * $rec.rps / 1000 | . * 100 | round / 100) of the \($machine.cpus) CPUs the server shares with it; clients on another machine (bench/run --client-hosts) would change the answer" else empty end),
       (if ($workload.idle // $workload.rate // $workload["read-rate"]) != null and ($tunes | length) > 0 then "the sizing (bench/tune) ran without --idle, --rate and --read-rate, which it does not take" else empty end)]),
     evidence: {paired_by: $d.paired_by, level: $d.level},
     runs: ([$screen] + [$tunes[].dir])};

def h: if . == null then "" else tostring | @html end;
def ci(lo; hi): if lo != null and hi != null then "\(lo | r1)-\(hi | r1)" else "" end;

# Where the recommended -w and -b come from, in words.
def sizing_said:
  if .sized | not then "the screened settings (not sized)"
  else [(if .workers == null then "no pool to size"
         elif .workers_from == "tune" then "-w by bench/tune"
         else "-w as screened (bench/tune's \(.tuned_workers // "-") is for a closed loop without idle or slow clients)" end),
        (if .backlog_from == "tune" then "-b by bench/tune"
         else "-b as screened (bench/tune bursts no idle connections)" end)] | join(", ") end;

# The answer in a few lines, for stdout.
def lines:
  . as $a
  | if .recommended == null then
      "bench/advise: no answer: \(.no_answer)",
      (.dropped[] | "  dropped: \(.model)-srv: \(.reason)")
    else
      "bench/advise: for this workload on this machine (\(.machine.cpus) CPUs, Linux \(.machine.kernel)):",
      "  \(.recommended.command)",
      "  \(.recommended.rps | r1) requests a second (\(ci(.recommended.rps_ci[0]; .recommended.rps_ci[1])), \(.recommended.rps_ci_level // 0.95 | pct)%, over \(.recommended.blocks) blocks)\(if .recommended.target_percentile then ", \(.recommended.target_percentile) \(.recommended.target_us | us) (\(.recommended.target_range_us[0] | us) to \(.recommended.target_range_us[1] | us) over the blocks)" else ", p99 \(.recommended.p99_us | us)" end); \(.recommended | sizing_said)",
      (.recommended | select(.class_target_percentile) | "  the smallest class's \(.class_target_percentile): \(.class_target_us | us) (\(.class_target_range_us[0] | us) to \(.class_target_range_us[1] | us) over the blocks)"),
      "  why: \(.recommended.why)",
      (if .none_meets_target then "  no model meets the target here: this is the best of those that miss it by less than twice" else empty end),
      (if .runner_up then "  runner-up: \(.runner_up.model)-srv, \(.runner_up.ratio)x the throughput\(if .runner_up.ci then " (\(.runner_up.ci[0])-\(.runner_up.ci[1]))" else " (ratio of the medians, not a neighbour)" end)\(if .runner_up.verdict then ", \(.runner_up.verdict)" else "" end); CPU per request \(.runner_up.cpu_ms_per_req | r3) ms against \(.recommended.cpu_ms_per_req | r3)" else empty end),
      (.dropped[] | "  dropped: \(.model)-srv: \(.reason)"),
      (if (.undecided | length) > 0 then "  undecided: \(.undecided | join("; "))" else empty end),
      (if (.unsized | length) > 0 then "  not sized (the budget was spent): \(.unsized | join(", "))" else empty end),
      (.sizing[] | select(.error) | "  sizing \(.model)-srv failed: \(.error)"),
      (.limits[] | "  would change it: \(.)")
    end;

# The answer as a page, in the report's style.
def page:
  . as $a
  | "<!DOCTYPE html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>bench/advise</title>
<style>
body { font: 15px/1.45 system-ui, \"DejaVu Sans\", sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.n { font-variant-numeric: tabular-nums; text-align: right; }
tr.rec td { background: #e6f4ea; font-weight: 600; } tr.tie td { background: #eef3fb; }
pre { background: #f6f6f6; padding: 0.6em 0.8em; border: 1px solid #ddd; overflow-x: auto; }
code, pre { font-family: \"DejaVu Sans Mono\", monospace; font-size: 0.9em; }
</style>
</head>
<body>
<h1>Which model for this workload</h1>
<p>Workload: \([$a.workload | to_entries[] | "--\(.key) \(.value)"] | join(" ") | if . == "" then "bench/suites/advise's defaults" else . end | h)\(if $a.slo then "; target \($a.slo | h)" else "" end)\(if $a.class_slo then "; the smallest class's target \($a.class_slo | h)" else "" end). This machine: \($a.machine.cpus | h) CPUs, Linux \($a.machine.kernel | h); \($a.elapsed_s / 60 | . * 10 | round / 10 | h) minutes\(if $a.quick then " (--quick)" else "" end).</p>
<section id=\"verdict\">
<h2>Answer</h2>
\(if $a.recommended == null then "<p>No answer: \($a.no_answer | h).</p>" else
"<pre>\($a.recommended.command | h)</pre>
<p>\($a.recommended.rps | r1 | h) requests a second (\(ci($a.recommended.rps_ci[0]; $a.recommended.rps_ci[1]) | h), \($a.recommended.rps_ci_level // 0.95 | pct | h)%, over \($a.recommended.blocks | h) blocks)\(if $a.recommended.target_percentile then ", \($a.recommended.target_percentile | h) \($a.recommended.target_us | us | h) (\($a.recommended.target_range_us[0] | us | h) to \($a.recommended.target_range_us[1] | us | h) over the blocks)" else ", p99 \($a.recommended.p99_us | us | h)" end); \($a.recommended | sizing_said | h)\(if $a.recommended.tuned.rps then " (bench/tune measured \($a.recommended.tuned.rps | r1 | h) requests a second at its settings)" else "" end).</p>
\(if $a.recommended.class_target_percentile then "<p>The smallest class's \($a.recommended.class_target_percentile | h): \($a.recommended.class_target_us | us | h) (\($a.recommended.class_target_range_us[0] | us | h) to \($a.recommended.class_target_range_us[1] | us | h) over the blocks).</p>" else "" end)
<p>Why: \($a.recommended.why | h).\(if $a.none_meets_target then " No model meets the target here: this is the best of those that miss it by less than twice." else "" end)</p>
\(if $a.runner_up then "<p>Runner-up: \($a.runner_up.model | h)-srv, \($a.runner_up.ratio | h)x\(if $a.runner_up.ci then " (\($a.runner_up.ci[0] | h)-\($a.runner_up.ci[1] | h))" else " (ratio of the medians)" end)\(if $a.runner_up.verdict then ", \($a.runner_up.verdict | h)" else "" end).</p>" else "" end)" end)
</section>
<h2>Candidates</h2>
<table><thead><tr><th>model</th><th>req/s</th><th>interval</th><th>ratio to the best</th><th>p99</th>\(if $a.recommended.target_percentile then "<th>\($a.recommended.target_percentile | h)</th>" else "" end)<th>CPU ms/req</th><th>KiB/conn</th><th>verdict</th></tr></thead><tbody>
\([$a.candidates[] | "<tr class=\"\(if .verdict == "recommended" then "rec" elif .verdict == "not told apart" then "tie" else "" end)\"><td>\(.model | h)-srv</td><td class=\"n\">\(.rps | r1 | h)</td><td class=\"n\">\(ci(.rps_ci[0]; .rps_ci[1]) | h)</td><td class=\"n\">\(.ratio_to_best | h)\(if .ratio_ci then " (\(.ratio_ci[0] | h)-\(.ratio_ci[1] | h))" else "" end)</td><td class=\"n\">\(.p99_us | us | h)</td>\(if $a.recommended.target_percentile then "<td class=\"n\">\(.target_us | us | h)</td>" else "" end)<td class=\"n\">\(.cpu_ms_per_req | r3 | h)</td><td class=\"n\">\(.rss_kb_per_conn | r1 | h)</td><td>\(.verdict | h)</td></tr>"] | join("\n"))
</tbody></table>
<h2>Dropped</h2>
\(if ($a.dropped | length) == 0 then "<p>None.</p>" else "<ul>\([$a.dropped[] | "<li><b>\(.model | h)-srv</b>: \(.reason | h)</li>"] | join(""))</ul>" end)
\(if ($a.undecided | length) > 0 then "<h2>Undecided</h2><p>\($a.undecided | join("; ") | h)</p>" else "" end)\(if ([$a.sizing[] | select(.error)] | length) > 0 then "<h2>Sizing that failed</h2><ul>\([$a.sizing[] | select(.error) | "<li>\(.model | h)-srv: \(.error | h)</li>"] | join(""))</ul>" else "" end)\(if ($a.unsized | length) > 0 then "<p>Not sized (the budget was spent): \($a.unsized | join(", ") | h).</p>" else "" end)
<h2>The machine it holds for</h2>
<p>\($a.machine.cpus | h) CPUs, Linux \($a.machine.kernel | h); net.core.somaxconn \($a.machine.somaxconn | h), tcp_max_syn_backlog \($a.machine.tcp_max_syn_backlog | h), ip_local_port_range \($a.machine.ip_local_port_range | h), open files \($a.machine.nofile | h).</p>
\(if ($a.limits | length) > 0 then "<p>What would change the answer:</p><ul>\([$a.limits[] | "<li>\(h)</li>"] | join(""))</ul>" else "<p>No limit of the machine bound the measurements.</p>" end)
<h2>Evidence</h2>
<p>Pairs \(if $a.evidence.paired_by == "block" then "of cells measured in one block" else "by \($a.evidence.paired_by // "?" | h)" end), decided at \($a.evidence.level // 0 | pct | h)%. The runs (bench/report and bench/compare read them as any run):</p>
<ul>\([$a.runs[] | "<li><code>\(h)</code></li>"] | join(""))</ul>
</body>
</html>";

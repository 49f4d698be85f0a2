# report.jq: bench/report's page. Inputs (from bench/report): $runj (run.json), $sum
# (summary.json), $plots ({name, uri} per plot, in order), $cells (one record per cell file),
# $dims (bench/run --dimensions), $cells_href (the cells' directory, relative to the page),
# $plots_note (why there are no plots, or ""), $script and $hash (the page's one script and
# its CSP hash). Every value of the run reaches the page through @html.

def h: if . == null then "" else tostring | @html end;
def r(d): if . == null then null else (. * pow(10; d) | round) / pow(10; d) end;
def n(d): if . == null then "–" else r(d) | tostring end;
def ms: if . == null then null else . / 1000 end;
# A cell of the table: the shown text and the value it sorts by.
def td(v; text): "<td data-v=\"\(v | h)\">\(text | h)</td>";
def tdn(v; d): td(if v == null then "" else v end; v | n(d));

# What each plot shows, in one sentence, by its file name.
def sentence:
  if . == "throughput" then "Requests per second against the swept value: the median over the repetitions with the 95% interval of the median (below 6 repetitions, their range) as error bars (the verdict above says which models are told apart); a cross marks a configuration that kept a repetition disturbed by other work on the machine."
  elif . == "latency" then "The median, 99th and 99.9th percentile of a request's total time (connect to the last byte), on a log scale: the 99.9th shows what the 99th hides, such as a SYN dropped by a full listen queue and retried a second later."
  elif . == "percentiles" then "The whole latency distribution at one concurrency, per phase of a request (connect, greeting, response, total), one line per model (its median repetition): the farther right, the rarer the request."
  elif . == "timeline" then "Each second of the median repetition at one concurrency: requests completed and their p99; a stall, a drift or a slow start shows here and nowhere in the medians."
  elif . == "heatmaps" then "Every model's latency second by second (its median repetition at one concurrency), one panel each on the same axes and colour scale: time across, a request's total time up (log scale), the number of requests as colour; two clusters, a stall or a drift show here."
  elif . == "cpu" then "The server's CPU time (user and system) per request: what a model costs the machine for the same work."
  elif . == "cpu-split" then "CPU time per request on one log scale, in four panels: the server's user time (the sieve, the model's own bookkeeping) and system time (the kernel: connections, copies, page faults, scheduling), the client's, and the whole machine's (every CPU's busy time: on loopback the kernel's network work lands on whichever of server and client runs, so their split moves while this sum holds)."
  elif . == "unserved" then "Failed requests and clients never answered in a cell: the clients a server did not get to."
  elif . == "served" then "Clients answered at least once: a pool serves at most its size of kept connections."
  elif . == "classes" then "With request classes: the p99 of the class with the least work and of the one with the most; a model that runs a long request where short ones wait shows it in the small class."
  elif . == "rate" then "Open loop: the percentiles of the total time, measured from each request's due time, against the throughput achieved, a point per offered rate; a ring where requests fell due but were never sent."
  elif . == "overflows" then "The kernel's listen-queue overflows per cell (ListenOverflows): connections whose handshake a full accept queue dropped."
  elif . == "waits" then "Each of the 30 concurrent requests' wait for the greeting (the median repetition): the book's table 5.7, request by request."
  else "A plot of this run." end;

$runj[0] as $r | $sum[0] as $s | ($dims[0] // []) as $dims
| ($s.configs // []) as $cf
# the dimensions that vary between configurations (the model has its own column)
| [$dims[] | select(.record_key != null and .record_key != "model") | .record_key as $k
   | select(([$cf[] | .[$k]] | unique | length) > 1)
   | {key: $k, label: (.export_column // $k)}] as $vary
| ([$cells[] | select(.status == "failed")]) as $failed
| ([$cells[] | select(.status == "skipped")]) as $skipped
| ([$cells[] | select(.disturbed == true or .reruns > 0)]) as $disturbed
| ([$cf[] | select(.noisy == true)]) as $noisy
| any($cf[]; .stats.small_p99_us.median != null) as $classes
| ($r.matrix.TITLE // $r.suite) as $title
| ($r.context // {}) as $ctx
| ($s.verdicts // []) as $vd
# the keys in which the verdicts' configurations differ, for their titles
| ([$vd[] | del(.ranking, .pairs, .aa, .paired_by) | to_entries[] | select(.value != null) | .key]
   | unique | map(. as $k | select(([$vd[] | .[$k]] | unique | length) > 1))) as $vkeys
| def row(k; v): "<tr><th>\(k | h)</th><td>\(v | h)</td></tr>";
  def x2: if . == null then "–" else r(2) | tostring end;
  def pct(a; b): (((a // 1) - (b // 1)) * 100 | fabs | round);
  # "at 32 clients", "at 32 clients, WORK 1000": what sets this configuration apart
  def vtitle: . as $v
    | if ($vkeys | length) == 0 then "this configuration"
      else "at " + ([$vkeys[] | . as $k | $v[$k] as $x
                     | if $k == "conc" then "\($x) client\(if $x == 1 then "" else "s" end)"
                       else "\($k) \($x)" end] | join(", ")) end;
  def names: if length <= 1 then .[0] // "" else (.[:-1] | join(", ")) + " and " + .[-1] end;
  # one sentence from a configuration's verdict: who leads, who is not told apart from them,
  # and the last with its ratio
  def vsentence: . as $v | .ranking as $rk
    | ([$rk[] | select(.ratio_to_best == 1 or .ratio_ci == null
                       or (.ratio_ci[0] <= 1 and .ratio_ci[1] >= 1))]) as $top
    | ($rk[-1]) as $last
    | (vtitle | .[0:1] | ascii_upcase) + (vtitle | .[1:]) + ", "
      + (if ($rk | length) > 1 and ([$rk[1:][] | select(.ratio_ci != null)] | length) == 0 then
           # no interval at all: too few pairs for any (fewer than 6)
           "\($rk[0].model) ranks first and \($last.model) last, at \($last.ratio_to_best | x2)x the best; no pair is decided: from \([$v.pairs[]? | .n] | max // 0) pairs no interval reaches 95% (6 are needed)."
         else
         (if ($top | length) == 1 then "\($top[0].model) leads"
         else "\([$top[].model] | if length > 6 then .[:5] + ["\(length - 5) others"] else . end | names) lead, not told apart (within \(pct(1; [$top[].ratio_to_best] | min))% of each other)" end)
      + (if ($rk | length) > ($top | length) then
           "; \($last.model) is \($last.ratio_to_best | x2)x the best (\(if $last.ratio_ci then "\($last.ratio_ci[0] | x2)–\($last.ratio_ci[1] | x2)" else "no interval" end))"
         else "" end) + "." end);
  # each bar its ratio to the best on a scale to the widest interval's end (at most 2), a
  # mark at 1 (the best), the interval a line
  def vbars: . as $v
    | ([1, (.ranking[] | .ratio_ci[1]? // 1)] | max | [., 2] | min) as $top
    | def at(x): [x, $top] | min / $top * 100 | r(1);
    "<table class=\"bars\"><tbody>"
      + ([.ranking[] | (.ratio_to_best // 0) as $x
          | "<tr class=\"g\(.group % 2)\"><th>\(.model | h)</th><td class=\"track\"><span class=\"bar\" style=\"width:\(at($x))%\"></span><span class=\"one\" style=\"left:\(at(1))%\"></span>"
            + (if .ratio_ci and $x != 1 then "<span class=\"ci\" style=\"left:\(at(.ratio_ci[0]))%;width:\(at(.ratio_ci[1]) - at(.ratio_ci[0]) | r(1))%\"></span>" else "" end)
            + "</td><td data-v=\"\($x)\">\(if .group == 1 and $x == 1 then "the best" else "\($x | x2)x\(if .ratio_ci then " (\(.ratio_ci[0] | x2)–\(.ratio_ci[1] | x2))" else "" end)" end)</td><td>group \(.group)</td></tr>"]
         | join(""))
      + "</tbody></table>";
  # with request classes: the small class's p99 in the verdict's configuration, model by
  # model (what the mix suite is for; medians over the blocks, not paired)
  def vclass: . as $v | ($v | del(.ranking, .pairs, .aa, .paired_by)) as $k
    | [$cf[] | . as $c | select(all($k | to_entries[]; $c[.key] == .value))
       | select(.stats.small_p99_us.median != null and .stats.small_p99_us.median > 0)
       | {model, p: (.stats.small_p99_us.median / 1000)}] | sort_by(.p) as $q
    | if ($classes | not) or ($q | length) < 2 then ""
      else "<p class=\"vs\">\("Small requests (the class with the least work), \($v | vtitle): the lowest p99 is \($q[0].model)'s (\($q[0].p | r(2)) ms), then \([$q[1:3][] | "\(.model)'s (\(.p | r(2)) ms)"] | join(", ")); the highest \($q[-1].model)'s (\($q[-1].p | r(1)) ms), \($q[-1].p / $q[0].p | r(0))x the lowest (medians over the blocks, not paired)." | h)</p>" end;
  def vaa: if .aa == null then ""
    else "<p class=\"aa\">What this machine resolves here: \(.aa.model | h) against itself (an A/A comparison, true ratio 1) measured \(.aa.ratio | x2)\(if .aa.ci then " (\(.aa.ci[0] | x2)–\(.aa.ci[1] | x2)): differences under about \([pct(1; .aa.ci[0]), pct(.aa.ci[1]; 1)] | max)% cannot be told apart" else ", with too few blocks for an interval" end).</p>" end;
  # the flags, short in the table (the reasons in full under "What did not go as planned"
  # and on hovering)
  def flags:
    [ (if .noisy then "noisy" else empty end),
      (if (.disturbed // 0) > 0 then "disturbed \(.disturbed)" else empty end),
      (if (.failed // 0) > 0 then "failed \(.failed)" else empty end),
      (if (.skipped // 0) > 0 then "skipped \(.skipped)" else empty end) ] | join(", ");
  def reasons:
    [ (if .noisy then "noisy: \(.noise_cause // "")" else empty end),
      (if (.disturbed // 0) > 0 then "disturbed in \(.disturbed) repetition(s)" else empty end),
      (if (.failed // 0) > 0 then "failed \(.failed): \((.errors_seen // []) | map(tostring) | join("; "))" else empty end),
      (if (.skipped // 0) > 0 then "skipped \(.skipped)" else empty end) ] | join(" · ");
  def cellref: "<a href=\"\($cells_href | h)/\(.id | @uri | h).json\">\(.id | h)</a>";
"<!DOCTYPE html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-\($hash)'\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>\($title | h) · \($r.suite | h)</title>
<style>
body { font: 15px/1.45 system-ui, \"DejaVu Sans\", sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.lead { color: #555; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
td[data-v] { font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; background: #f4f4f4; white-space: nowrap; position: sticky; top: 0; }
.scroll { max-height: 560px; overflow: auto; display: inline-block; max-width: 100%; border: 1px solid #ddd; }
.scroll table { margin: 0; }
table.sortable th[aria-sort=ascending]::after { content: \" ▲\"; }
table.sortable th[aria-sort=descending]::after { content: \" ▼\"; }
tr.noisy td { background: #fff8e1; } tr.failed td, tr.bad td { background: #fdecea; } tr.skipped td { background: #eef2f7; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; max-width: 1100px; }
.record { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 0 2em; }
.record th { background: #f7f7f7; white-space: nowrap; }
.vd { margin: 0.8em 0 1.2em; } .vs { font-weight: 600; margin: 0.2em 0; } .aa { color: #555; margin: 0.2em 0; }
table.bars td, table.bars th { border: none; padding: 0.1em 0.5em; }
table.bars tr.g1 { background: #eef3fb; } table.bars tr.g0 { background: #fbf6ea; }
td.track { position: relative; width: 320px; min-width: 320px; }
.bar { display: block; height: 0.9em; background: #5b7fb3; }
.ci { position: absolute; top: calc(50% - 1px); height: 2px; background: #222; }
.one { position: absolute; top: 0; bottom: 0; width: 1px; background: #999; }
code, .mono { font-family: \"DejaVu Sans Mono\", monospace; font-size: 0.9em; }
</style>
</head>
<body>
<h1>\($title | h)</h1>
<p class=\"lead\">Suite <b>\($r.suite | h)</b>: \($cells | length) cells, \(($cells | length) - ($failed | length) - ($skipped | length)) ran, \($failed | length) failed, \($skipped | length) skipped; \($noisy | length) noisy configuration(s), \($disturbed | length) cell(s) disturbed or run again. \($r.started_at // "" | h) to \($r.completed_at // "not finished" | h), commit \($r.git_commit // "?" | h)\(if $r.git_dirty then " (with uncommitted changes)" else "" end | h).</p>
<section id=\"verdict\">
<h2>Verdict</h2>
\(if $s.verdicts == null then "<p>No verdict: this run was summarised before verdicts existed; <code>bench/summarize RUN_DIR</code> makes its summary again, with them (pairs by repetition number: not measured close in time).</p>"
  elif ($vd | length) == 0 then "<p>No verdict: no configuration of this run has more than one model to compare.</p>" else
"<p class=\"lead\">Which model is faster here, and by how much: in each configuration the models ranked by their paired ratio to the best, each bar that ratio with its interval (the line), \(if any($vd[]; .paired_by == "repetition") then "from unpaired repetitions: pairs made by repetition number (a run made before blocks, whose pairs were not measured close in time: read its intervals as wider than they say)" else "pairs of cells measured in one block" end); neighbours not told apart share a shade and a group.</p>"
+ ([$vd[] | "<div class=\"vd\"><p class=\"vs\">\(vsentence | h)</p>\(vbars)\(vclass)\(vaa)</div>"] | join("\n")) end)
</section>
<h2 id=\"summary\">Summary</h2>
<p>Per configuration over its repetitions (medians); click a column's name to sort by it. A noisy, disturbed, failed or skipped configuration is flagged, with its reason on hovering the flag and under <a href=\"#problems\">What did not go as planned</a>.</p>
<div class=\"scroll\"><table class=\"sortable\" id=\"summary-table\">
<thead><tr><th>model</th>\([$vary[] | "<th>\(.label | h)</th>"] | join(""))<th>reps</th><th>req/s</th><th title=\"the 95% interval of the median from order statistics; below 6 repetitions their range, which covers less: its coverage is given\">interval of the median</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th>\(if $classes then "<th title=\"with request classes (--mix): the p99 of the class with the least work, where head-of-line blocking shows\">small class p99 ms</th><th title=\"the p99 of the class with the most work\">large class p99 ms</th>" else "" end)<th>CPU ms/req</th><th>errors</th><th>flags</th></tr></thead>
<tbody>
\([$cf[] | . as $c
   | "<tr class=\"\(if (.failed // 0) > 0 then "failed" elif .stats.rps == null and (.skipped // 0) > 0 then "skipped" elif .noisy then "noisy" else "" end)\">"
     + td(.model; .model)
     + ([$vary[] | $c[.key] as $v | td($v // ""; $v // "–")] | join(""))
     + tdn(.reps; 0)
     + tdn(.stats.rps.median; 1)
     + (.stats.rps.ci95 as $ci | .stats.rps.ci_level as $lv
        | if $ci == null then td(""; "–")
          elif ($lv // 1) < 0.95 then td($ci[0]; "\($ci[0] | n(0)) – \($ci[1] | n(0)) (range, covers \($lv * 100 | round)%)")
          else td($ci[0]; "\($ci[0] | n(0)) – \($ci[1] | n(0)) (95%)") end)
     + tdn(.stats.p50_us.median | ms; 2) + tdn(.stats.p99_us.median | ms; 2)
     + tdn(.stats.p999_us.median | ms; 2)
     + (if $classes then tdn(.stats.small_p99_us.median | ms; 2) + tdn(.stats.large_p99_us.median | ms; 2) else "" end)
     + tdn(.stats.cpu_ms_per_req.median; 3)
     + tdn(.stats.errors.median; 0)
     + "<td data-v=\"\(flags | h)\" title=\"\(reasons | h)\">\(flags | h)</td></tr>"] | join("\n"))
</tbody>
</table></div>
<h2 id=\"plots\">Plots</h2>
\(if $plots_note != "" then "<p class=\"bad\">\($plots_note | h)</p>" else "" end)\(if ($plots | length) == 0 and $plots_note == "" then "<p>This run has no plots.</p>" else "" end)
\(if ($plots | length) > 0 and ([$plots[] | select(.name == "heatmaps")] | length) == 0 then "<p>No latency heatmaps: they are drawn at one concurrency of a closed-loop suite from the cells' per-second histograms, which this run's cells do not hold (a loadgen from before they were recorded) or its suite does not plot.</p>" else "" end)
\([$plots[] | "<figure id=\"plot-\(.name | h)\"><img src=\"\(.uri)\" alt=\"\(.name | h)\"><figcaption><b>\(.name | h).</b> \(.name | sentence | h)</figcaption></figure>"] | join("\n"))
<h2 id=\"problems\">What did not go as planned</h2>
\(if ($failed + $skipped + $disturbed | length) == 0 and ($noisy | length) == 0 then "<p>Every cell ran, none was disturbed, every configuration's throughput is within the run's target.</p>" else
"<table><thead><tr><th>cell or configuration</th><th>what</th><th>why</th></tr></thead><tbody>"
+ ([$failed[] | "<tr class=\"failed\"><td>\(cellref)</td><td>failed</td><td>\(.error | h)</td></tr>"] | join(""))
+ ([$skipped[] | "<tr class=\"skipped\"><td>\(cellref)</td><td>skipped</td><td>\(.error | h)</td></tr>"] | join(""))
+ ([$disturbed[] | "<tr class=\"noisy\"><td>\(cellref)</td><td>\(if .reruns > 0 then "run again \(.reruns) time(s)" else "disturbed" end)</td><td>\(((.rerun_reasons // []) + [.why // empty]) | map(tostring) | join("; ") | h)</td></tr>"] | join(""))
+ ([$noisy[] | . as $c | "<tr class=\"noisy\"><td>\(.model | h)\([$vary[] | " \(.label)=\($c[.key] // "–")"] | join("") | h)</td><td>noisy</td><td>\(.noise_cause // "" | h)</td></tr>"] | join(""))
+ "</tbody></table>" end)
<h2 id=\"record\">The run's record</h2>
<div class=\"record\">
<table><caption>machine</caption><tbody>
\(row("host"; $ctx.host_name) + row("kernel"; $ctx.kernel) + row("CPU"; "\($ctx.cpu_model // "?") × \($ctx.num_cpus // "?")")
  + row("memory"; if $ctx.memory_kb then "\($ctx.memory_kb / 1048576 | r(1)) GiB" else null end)
  + row("CPU governor"; $ctx.cpu_governor // "none (a virtual machine, or not exposed)")
  + row("cgroup cpu.max"; $ctx.cgroup_cpu_max) + row("CPU affinity"; $ctx.cpu_affinity)
  + row("open files"; if $ctx.rlimit_nofile then "\($ctx.rlimit_nofile.soft) (hard \($ctx.rlimit_nofile.hard))" else null end))
</tbody></table>
<table><caption>placement and kernel settings</caption><tbody>
\(row("server CPUs"; $r.placement.server_cpus) + row("client CPUs"; $r.placement.client_cpus) + row("placement"; $r.placement.note)
  + row("somaxconn"; $ctx.somaxconn)
  + ([($ctx.sysctl // {}) | to_entries[] | row(.key; .value)] | join("")))
</tbody></table>
<table><caption>precision and interference</caption><tbody>
\(row("seed"; $r.seed)
  + row("noise floor"; if $r.noise_floor then "CV \($r.noise_floor.cv_pct)% of a fixed CPU probe's rate" else "not measured (--probe 0)" end)
  + row("interference limits"; if $r.interference_limits then "others' CPU above \($r.interference_limits.foreign_cpu_pct)% of a core, or steal above \($r.interference_limits.steal_pct)%, disturb a cell" else null end)
  + row("repetitions"; "\($r.matrix.REPS // "?") at least, up to \($r.matrix.MAX_REPS // "?") for ±\($r.matrix.TARGET_CI // "?")% (budget \($r.matrix.BUDGET // "?")%)"))
</tbody></table>
<table><caption>binaries (commit, compiler, flags) and tools</caption><tbody>
\([($ctx.binaries // {}) | to_entries[] | row(.key; .value)] | join("") )\([($ctx.tools // {}) | to_entries[] | row(.key; .value)] | join(""))
</tbody></table>
<table><caption>the suite's values</caption><tbody>
\([($r.matrix // {}) | to_entries[] | select(.value != "" and .value != null) | row(.key; .value)] | join(""))
</tbody></table>
</div>
<h2 id=\"cells\">Cells</h2>
<details><summary>\($cells | length) cells, each a JSON file (loadgen's result, the server's stats line, the kernel's counters, the interference)</summary>
<table class=\"sortable\"><thead><tr><th>cell</th><th>status</th><th>reruns</th><th>error</th></tr></thead><tbody>
\([$cells[] | "<tr class=\"\(if .status == "ok" then "" else (.status | h) end)\"><td>\(cellref)</td><td>\(.status | h)</td>\(tdn(.reruns; 0))<td>\(.error | h)</td></tr>"] | join("\n"))
</tbody></table>
</details>
<script>\($script)</script>
</body>
</html>"

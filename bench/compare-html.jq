# compare-html.jq: bench/compare --html's page. Inputs: $c (the comparison, as --json prints
# it), $ra and $rb (the two runs' run.json), $plots ({name, uri}: throughput and p99 of both
# runs drawn over each other). Every value of the runs reaches the page through @html.

def h: if . == null then "" else tostring | @html end;
def r(d): if . == null then null else (. * pow(10; d) | round) / pow(10; d) end;
def n(d): if . == null then "–" else r(d) | tostring end;
def ci: if . == null then "" else " [\(.[0] | n(3)), \(.[1] | n(3))]" end;
# The record of a run as flat rows (name, value): what a reader checks before trusting a
# difference between two runs.
def record:
  (.context // {}) as $x
  | [["suite", .suite], ["commit", "\(.git_commit // "?")\(if .git_dirty then " (with uncommitted changes)" else "" end)"],
     ["started", .started_at], ["host", $x.host_name], ["kernel", $x.kernel],
     ["CPU", "\($x.cpu_model // "?") × \($x.num_cpus // "?")"], ["memory (kB)", $x.memory_kb],
     ["CPU governor", $x.cpu_governor], ["cgroup cpu.max", $x.cgroup_cpu_max],
     ["CPU affinity", $x.cpu_affinity], ["open files", $x.rlimit_nofile.soft],
     ["server CPUs", .placement.server_cpus], ["client CPUs", .placement.client_cpus],
     ["somaxconn", $x.somaxconn],
     ["noise floor CV %", .noise_floor.cv_pct]]
  + [($x.sysctl // {}) | to_entries[] | ["sysctl \(.key)", .value]]
  + [($x.binaries // {}) | to_entries[] | ["\(.key) (version, compiler, flags)", .value]]
  + [($x.tools // {}) | to_entries[] | [.key, .value]]
  + [(.matrix // {}) | to_entries[] | select(.value != "" and .value != null) | ["suite \(.key)", .value]];
def verdict_cell: "<td class=\"\(.verdict | gsub(" "; "-") | h)\">\(.verdict | h)\(if .why then "<br><small>\(.why | h)</small>" else "" end)</td>";

$c[0] as $c | ($ra[0] | record) as $A | ($rb[0] | record) as $B
| ([$A[][0]] + [$B[][0]] | reduce .[] as $k ([]; if index([$k]) then . else . + [$k] end)) as $names
| ($A | map({key: .[0], value: .[1]}) | from_entries) as $a
| ($B | map({key: .[0], value: .[1]}) | from_entries) as $b
| ([$c.configs[] | select(.rps.verdict == "improved" or .p99_us.verdict == "improved")] | length) as $imp
| ([$c.configs[] | select(.rps.verdict == "regressed" or .p99_us.verdict == "regressed")] | length) as $reg
| "<!DOCTYPE html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">
<title>compare: \($c.a.suite | h) · \($c.b.suite | h)</title>
<style>
body { font: 15px/1.45 system-ui, \"DejaVu Sans\", sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.improved { background: #e6f4ea; } td.regressed { background: #fdecea; } td.no-change { color: #555; }
tr.differs td { background: #fff3cd; font-weight: 600; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
</style>
</head>
<body>
<h1>Comparison: B against A</h1>
<p><b>A</b>: \($c.a.run | h) (\($c.a.suite | h), commit \($c.a.git_commit | h))<br><b>B</b>: \($c.b.run | h) (\($c.b.suite | h), commit \($c.b.git_commit | h))</p>
<p>\($imp) configuration(s) improved, \($reg) regressed, \($c.configs | length) compared. B/A is the ratio of the medians with its 95% interval (Hodges-Lehmann, from the exact Mann-Whitney distribution over the repetitions); a change within \($c.noise_pct | h)% (the noise floor\(if $c.drift_pct != null then " and the machine's drift between the runs, \($c.drift_pct)%" else "" end | h)) is no change.\(if ($c.regressed_beyond_threshold | length) > 0 then " <b>Regressed by more than \($c.threshold_pct | h)%: \($c.regressed_beyond_threshold | join(", ") | h).</b>" else "" end)</p>
<h2>Verdicts</h2>
<table><thead><tr><th>configuration</th><th>req/s A</th><th>req/s B</th><th>B/A [95%]</th><th>throughput</th><th>p99 ms A</th><th>p99 ms B</th><th>B/A [95%]</th><th>p99</th></tr></thead><tbody>
\([$c.configs[] | "<tr><td>\(.label | h)</td><td>\(.rps.a | n(1) | h)</td><td>\(.rps.b | n(1) | h)</td><td>\("\(.rps.ratio | n(3))\(.rps.ci95 | ci)" | h)</td>\(.rps | verdict_cell)<td>\(.p99_us.a | if . then . / 1000 else . end | n(2) | h)</td><td>\(.p99_us.b | if . then . / 1000 else . end | n(2) | h)</td><td>\("\(.p99_us.ratio | n(3))\(.p99_us.ci95 | ci)" | h)</td>\(.p99_us | verdict_cell)</tr>"] | join("\n"))
</tbody></table>
\(if ($c.only_in_a | length) > 0 then "<p>Only in A: \($c.only_in_a | join(", ") | h)</p>" else "" end)\(if ($c.only_in_b | length) > 0 then "<p>Only in B: \($c.only_in_b | join(", ") | h)</p>" else "" end)
<h2>Both runs, drawn over each other</h2>
\(if ($plots | length) == 0 then "<p>No configuration in both runs.</p>" else "" end)\([$plots[] | "<figure><img src=\"\(.uri)\" alt=\"\(.name | h)\"><figcaption>\(if .name == "throughput" then "Throughput of each configuration compared: A (rings) and B (dots), the median with its 95% interval." else "p99 of each configuration compared (log scale): A (rings) and B (dots), the median with its 95% interval." end | h)</figcaption></figure>"] | join("\n"))
<h2>The two runs' records</h2>
<p>Side by side; a highlighted row differs between the runs (a different compiler, kernel, sysctl or placement can explain a difference in the verdicts).</p>
<table><thead><tr><th></th><th>A</th><th>B</th></tr></thead><tbody>
\([$names[] | . as $k | ($a[$k] | tostring) as $va | ($b[$k] | tostring) as $vb
   | "<tr class=\"\(if $va != $vb then "differs" else "" end)\"><th>\($k | h)</th><td>\($a[$k] // "–" | h)</td><td>\($b[$k] // "–" | h)</td></tr>"] | join("\n"))
</tbody></table>
</body>
</html>"

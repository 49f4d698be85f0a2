# tune-slo.gp: bench/tune's latency-target search: the corrected percentile at each open-loop
# rate it tried, against the throughput served, with the target; filled points met it. Set by
# bench/tune: plotdir, datadir, out, fmt, ttl, target (ms), pct (p99 ...). Data (slo.tsv): offered
# rate, served req/s, percentile ms, met (0/1).
load plotdir."/tune-common.gp"
set title ttl."\nlatency against the offered rate, and the target"
set xlabel "offered rate (loadgen -R, req/s)"
set ylabel pct." latency, corrected (ms)"
set logscale y 10
set yrange [*:*]
set xrange [0:*]
set arrow 1 from graph 0, first target to graph 1, first target nohead lc rgb "#d62728" dt 2 lw 1.5
f = datadir."/slo.tsv"
plot f using 1:3 with lines lw 1.5 lc rgb "#1f77b4" notitle, \
     f using 1:($4 > 0 ? $3 : 1/0) with points pt 7 ps 1.2 lc rgb "#2ca02c" title "met the target", \
     f using 1:($4 > 0 ? 1/0 : $3) with points pt 6 ps 1.2 lw 1.5 lc rgb "#d62728" \
     title sprintf("over %s %g ms", pct, target)

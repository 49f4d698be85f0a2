# tune-pool.gp: bench/tune's pool sweep: the median throughput at each -w with its 95%
# interval, the Universal Scalability Law fitted to them (when fitted), the recommended -w
# and N* (when inside the range). Set by bench/tune: plotdir, datadir, out, fmt, ttl, fitted, lambda,
# sigma, kappa, peak (0: none), recw, wmax. Data (pool.tsv): workers, median, lo, hi, p99 ms.
load plotdir."/tune-common.gp"
set title ttl."\nthroughput against the pool size, with the USL fitted"
set xlabel "workers (-w)"
set ylabel "requests per second (median)"
set logscale x 2
set xrange [0.8:wmax * 1.25]
set yrange [0:*]
usl(n) = lambda * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
set samples 400
if (recw > 0) {
    set arrow 1 from recw, graph 0 to recw, graph 1 nohead lc rgb "#2ca02c" dt 2 lw 1.5
    set label 1 sprintf(" recommended -w %d", recw) at recw, graph 0.06 left tc rgb "#2ca02c"
}
if (fitted && peak > 0 && peak <= wmax * 1.25) {
    set arrow 2 from peak, graph 0 to peak, graph 1 nohead lc rgb "#d62728" dt 3
    set label 2 sprintf(" N* %.0f", peak) at peak, graph 0.95 left tc rgb "#d62728"
}
f = datadir."/pool.tsv"
if (fitted) {
    plot f using 1:2:3:4 with yerrorbars pt 7 ps 1 lc rgb "#1f77b4" title "measured (95% CI)", \
         usl(x) with lines lw 2 lc rgb "#ff7f0e" \
         title sprintf("USL: λ %.0f, σ %.3f, κ %.2g", lambda, sigma, kappa)
} else {
    plot f using 1:2:3:4 with yerrorlines pt 7 ps 1 lc rgb "#1f77b4" title "measured (95% CI)"
}

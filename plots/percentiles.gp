# percentiles.gp: the latency distribution per series at one concurrency, as HdrHistogram plots
# it: x = 1/(1-p) on a log axis, so 90%, 99%, 99.9% are equally spaced. Columns: x, ms.
load plotdir."/common.gp"
set title ttl
set logscale x 10
set xrange [1:*]
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set xlabel "percentile"
set ylabel "total time, ms"
set logscale y 10
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with lines \
     lw 2 lc rgb color(word(series, i)) dt dash(word(series, i)) title word(series, i)

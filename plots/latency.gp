# latency.gp: median and 99th percentile of the total request time against the swept value,
# log scale. Columns: x, p50_ms, p99_ms (medians over repetitions).
load plotdir."/common.gp"
set multiplot layout 1, 2 title ttl
set key inside left top
set logscale y 10
if (logx) { set logscale x 2 }
set xlabel xlab
set ylabel "ms"
set title "p50 of total time"
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with linespoints \
     lw 2 pt 7 ps 0.6 lc rgb color(word(series, i)) dt dash(word(series, i)) \
     title word(series, i)
set title "p99 of total time"
plot for [i = 1:words(series)] file(word(series, i)) using 1:3 with linespoints \
     lw 2 pt 7 ps 0.6 lc rgb color(word(series, i)) dt dash(word(series, i)) notitle
unset multiplot

# rate.gp: the latency-throughput curve of an open-loop suite: for each offered rate (a
# percentage of the model's closed-loop capacity) a point at the throughput achieved and
# the p50, p99 and p99.9 of the total time, measured from each request's due time. A ring
# marks a point where requests fell due but were never sent (the client's connections were
# all still waiting): past it the offered rate was not delivered.
# Columns: achieved_rps, p50_ms, p99_ms, p999_ms, due_not_sent, rate_pct (medians).
load plotdir."/common.gp"
if (fmt eq "svg") {
    set terminal svg size 1390,480 font "DejaVu Sans,12" background rgb "white"
} else {
    set terminal pngcairo size 1390,480 font "DejaVu Sans,10" background rgb "white"
}
set output out.".".fmt
set multiplot layout 1, 3 title fulltitle margins 0.06, 0.84, 0.12, 0.84 spacing 0.06, 0.1
# the key beside the panels, never over a line
set key at screen 0.855, screen 0.84 left top box lc rgb "#bbbbbb"
set logscale y 10
set xlabel "achieved requests per second"
set xtics autofreq
set autoscale x
set ylabel "ms"
ring(d, y) = d > 0 ? y : 1/0
do for [c = 2:4] {
    set title (c == 2 ? "p50" : c == 3 ? "p99" : "p99.9")." of total time (from due time)"
    if (c == 2) {
        plot for [i = 1:words(series)] file(word(series, i)) using 1:c with linespoints \
             lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
             dt dash(word(series, i)) title word(series, i), \
             for [i = 1:words(series)] file(word(series, i)) using 1:(ring($5, column(c))) \
             with points pt 6 ps 1.8 lc rgb color(word(series, i)) notitle
    } else {
        unset key
        plot for [i = 1:words(series)] file(word(series, i)) using 1:c with linespoints \
             lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
             dt dash(word(series, i)) notitle, \
             for [i = 1:words(series)] file(word(series, i)) using 1:(ring($5, column(c))) \
             with points pt 6 ps 1.8 lc rgb color(word(series, i)) notitle
    }
}
unset multiplot

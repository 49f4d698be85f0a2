# latency.gp: the median, 99th and 99.9th percentiles of the total request time against the
# swept value, log scale. Columns: x, p50_ms, p99_ms, p999_ms (medians over repetitions).
# The 99.9th shows what the 99th can hide: connections whose SYN was dropped by a full listen
# queue wait for the client's retransmission, one second or more.
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
if (logx) { set logscale x 2 }
set xlabel xlab
set ylabel "ms"
set title "p50 of total time"
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) title word(series, i)
unset key
set title "p99 of total time"
plot for [i = 1:words(series)] file(word(series, i)) using 1:3 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) notitle
unset key
set title "p99.9 of total time"
plot for [i = 1:words(series)] file(word(series, i)) using 1:4 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) notitle
unset multiplot

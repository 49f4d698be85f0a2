# classes.gp: with request classes (loadgen --mix), the 99th percentile of the total time of
# the class with the least WORK and of the one with the most, against the swept value. A
# model that runs a long request where short ones wait (head-of-line blocking) shows it in
# the small class's tail. Columns: x, small_p99_ms, large_p99_ms (medians).
load plotdir."/common.gp"
if (fmt eq "svg") {
    set terminal svg size 1290,480 font "DejaVu Sans,12" background rgb "white"
} else {
    set terminal pngcairo size 1290,480 font "DejaVu Sans,10" background rgb "white"
}
set output out.".".fmt
set multiplot layout 1, 2 title fulltitle margins 0.06, 0.84, 0.12, 0.84 spacing 0.06, 0.1
# the key beside the panels, never over a line
set key at screen 0.855, screen 0.84 left top box lc rgb "#bbbbbb"
if (logx) { set logscale x 2 }
set logscale y 10
set xlabel xlab
set ylabel "ms"
set title "p99 of the small requests"
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) title word(series, i)
unset key
set title "p99 of the large requests"
plot for [i = 1:words(series)] file(word(series, i)) using 1:3 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) notitle
unset multiplot

# timeline.gp: each second of the measured interval at one concurrency (the median
# repetition): requests completed in it and the p99 of their total time. A drift, a stall or
# a slow start shows here and nowhere in the medians. Columns: t (s), requests, p99_ms.
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
set xlabel "second of the measured interval"
set xtics 1
set autoscale x
set ylabel "requests completed"
set yrange [0:*]
set title "requests per second"
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) title word(series, i)
unset key
set ylabel "ms"
set logscale y 10
set yrange [*:*]
set title "p99 of total time, per second"
plot for [i = 1:words(series)] file(word(series, i)) using 1:3 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) notitle
unset multiplot

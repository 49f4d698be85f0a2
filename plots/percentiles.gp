# percentiles.gp: the latency distribution per series at one concurrency, per phase of a
# request (connect, greeting, response, total), one line per series (its median repetition),
# as HdrHistogram plots it: x = 1/(1-p) on a log axis, so 90%, 99%, 99.9% are equally spaced.
# Data: datadir/<phase>/<series>.tsv, columns x, ms.
load plotdir."/common.gp"
if (fmt eq "svg") {
    set terminal svg size 1390,820 font "DejaVu Sans,12" background rgb "white"
} else {
    set terminal pngcairo size 1390,820 font "DejaVu Sans,10" background rgb "white"
}
set output out.".".fmt
set multiplot layout 2, 2 title fulltitle margins 0.06, 0.84, 0.07, 0.89 spacing 0.06, 0.15
phases = "connect greeting response total"
pfile(p, s) = sprintf("%s/%s/%s.tsv", datadir, p, s)
set logscale x 10
set xrange [1:*]
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set logscale y 10
set xlabel "percentile (requests at or below the time)"
set ylabel "ms (log scale)"
# ser_<phase> (from bench/plot): the series with data in that phase.
do for [k = 1:4] {
    ph = word(phases, k)
    ser = value("ser_".ph)
    set title ph." time (median repetition)"
    if (k < 4) { unset key } else { set key at screen 0.855, screen 0.89 left top box lc rgb "#bbbbbb" }
    if (words(ser) > 0) {
        plot for [i = 1:words(ser)] pfile(ph, word(ser, i)) using 1:2 with lines \
             lw 1.5 lc rgb color(word(ser, i)) dt dash(word(ser, i)) \
             title (k == 4 ? word(ser, i) : "")
    } else {
        set label 1 "no requests timed in this phase" at graph 0.5, 0.5 center
        plot 1 lc rgb "white" notitle
        unset label 1
    }
}
unset multiplot

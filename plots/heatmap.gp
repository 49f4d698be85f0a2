# heatmap.gp: every series' latency, second by second (its median repetition at one
# concurrency), as small multiples on one scale: in each panel time across, the total time of
# a request up (log scale, 10 bins a decade), the number of requests in each bin as colour;
# an empty bin is left white. Every panel has the same axes and the same colour scale, so the
# models can be compared at a glance. What a p99 line hides shows here: two populations (a
# cluster at 1 s is a retransmitted SYN), a stall, a drift. Set by bench/plot: series (the
# panels), heat_max (the largest count of any bin), heat_xlo/heat_xhi (the first and last
# second), heat_ylo/heat_yhi (the lowest and highest bin's middle, log10 ms), cols, rows.
# Data (heatmap/<series>.tsv): second, log10(ms) of the bin's middle, requests.
load plotdir."/common.gp"
if (fmt eq "svg") {
    set terminal svg size 1290, 90 + 250 * rows font "DejaVu Sans,12" background rgb "white"
} else {
    set terminal pngcairo size 1290, 90 + 250 * rows font "DejaVu Sans,10" background rgb "white"
}
set output out.".".fmt
unset key
set offsets 0, 0, 0, 0
set xtics autofreq
# a bin is 0.1 of a decade high and a second wide, centred on its point
set xrange [heat_xlo : heat_xhi + 1]
# whole decades, so that the axis always has labelled tics
set yrange [floor(heat_ylo - 0.05) : ceil(heat_yhi + 0.05)]
set ytics ("10 us" -2, "100 us" -1, "1 ms" 0, "10 ms" 1, "100 ms" 2, "1 s" 3, "10 s" 4, "100 s" 5)
set mytics 10
set logscale cb 10
set cbrange [1:(heat_max > 1 ? heat_max : 2)]
set palette defined (0 "#fde0c5", 1 "#fb8d3d", 2 "#d4442a", 3 "#6b0f1a")
set grid front lc rgb "#dddddd"
# one colour scale for every panel, at the right
set colorbox user origin screen 0.935, screen 0.15 size screen 0.012, screen 0.7
set cblabel "requests in the bin (log scale)"
set style fill solid 1.0 noborder
# margins and spacing in pixels of the figure's height (90 + 250 a row)
hpx = 90 + 250 * rows
set multiplot layout rows, cols title fulltitle margins 0.07, 0.9, 55.0 / hpx, 1 - 75.0 / hpx \
    spacing 0.07, 70.0 / hpx
do for [i = 1:words(series)] {
    s = word(series, i)
    set title s
    # the axes' names once: the x axis on the last row, the y axis on the first column
    if (i > words(series) - cols) { set xlabel "second of the measured interval" } else { unset xlabel }
    if ((i - 1) % cols == 0) { set ylabel "total time of a request" } else { unset ylabel }
    f = sprintf("%s/%s.tsv", datadir, s)
    # second t spans [t, t + 1); a box per bin (an image cannot be drawn from a single row)
    plot f using ($1 + 0.5):2:(0.5):(0.05):($3 > 0 ? $3 : 1/0) with boxxyerror lc palette
}
unset multiplot

# heatmap.gp: one series' latency, second by second (the median repetition at one
# concurrency): time across, the total time of a request up (log scale, 10 bins a decade),
# the number of requests in each bin as colour; an empty bin is left white. What a p99 line
# hides shows here: two populations (a cluster at 1 s is a retransmitted SYN), a stall, a
# drift. Set by bench/plot: series (one), heat_max (the largest count), heat_xlo/heat_xhi
# (the first and last second), heat_ylo/heat_yhi (the lowest and highest bin's middle). Data
# (heatmap/<series>.tsv): second, log10(ms) of the bin's middle, requests.
load plotdir."/common.gp"
set title fulltitle
unset key
set offsets 0, 0, 0, 0
set xtics autofreq
# a bin is 0.1 of a decade high and a second wide, centred on its point
set xrange [heat_xlo : heat_xhi + 1]
# whole decades, so that the axis always has labelled tics
set yrange [floor(heat_ylo - 0.05) : ceil(heat_yhi + 0.05)]
set xlabel "second of the measured interval"
set ylabel "total time of a request"
set cblabel "requests in the bin (log scale)"
set ytics ("10 us" -2, "100 us" -1, "1 ms" 0, "10 ms" 1, "100 ms" 2, "1 s" 3, "10 s" 4, "100 s" 5)
set mytics 10
set logscale cb 10
set cbrange [1:(heat_max > 1 ? heat_max : 2)]
set palette defined (0 "#fde0c5", 1 "#fb8d3d", 2 "#d4442a", 3 "#6b0f1a")
set grid front lc rgb "#dddddd"
f = sprintf("%s/%s.tsv", datadir, word(series, 1))
# second t spans [t, t + 1); a box per bin (an image cannot be drawn from a single row)
set style fill solid 1.0 noborder
plot f using ($1 + 0.5):2:(0.5):(0.05):($3 > 0 ? $3 : 1/0) with boxxyerror lc palette

# tune-backlog.gp: bench/tune's backlog step, two panels against the backlog: listen-queue
# overflows per burst (the kernel's ListenOverflows) and the worst burst's connect-time p99
# (a dropped SYN is retried after 1 s, 3 s, ...), one line per burst size. Set by bench/tune:
# plotdir, datadir, out, fmt, ttl, series (the burst sizes), recb, somaxconn. Data (backlog-N.tsv):
# backlog, overflows per burst, connect p99 ms.
load plotdir."/tune-common.gp"
set key outside right top box lc rgb "#bbbbbb" title "burst of"
set multiplot layout 2,1 title ttl."\nbursts of new connections against the listen backlog"
set logscale x 2
set xrange [0.7:*]
file(s) = sprintf("%s/backlog-%s.tsv", datadir, s)
colour(i) = word("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f", (i - 1) % 8 + 1)
if (recb > 0) { set arrow 1 from recb, graph 0 to recb, graph 1 nohead lc rgb "#2ca02c" dt 2 lw 1.5 }
if (somaxconn > 0) { set arrow 2 from somaxconn, graph 0 to somaxconn, graph 1 nohead lc rgb "#999999" dt 3 }
set ylabel "overflows per burst"
set yrange [0:*]
unset xlabel
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with linespoints lw 2 pt 7 \
     ps 0.8 dt i lc rgb colour(i) title word(series, i)
set ylabel "connect p99 (ms)"
set xlabel sprintf("listen backlog (-b); green: recommended %d, grey: somaxconn", recb)
set logscale y 10
set yrange [*:*]
plot for [i = 1:words(series)] file(word(series, i)) using 1:($3 > 0 ? $3 : 1/0) \
     with linespoints lw 2 pt 7 ps 0.8 dt i lc rgb colour(i) title word(series, i)
unset multiplot

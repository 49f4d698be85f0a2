# throughput.gp: requests per second against the swept value, per series, with the 95%
# confidence interval over repetitions as error bars. Columns: x, median, ci_lo, ci_hi.
load plotdir."/common.gp"
set title ttl
set xlabel xlab
set ylabel "requests per second (median, 95% CI)"
if (logx) { set logscale x 2 }
set yrange [0:*]
plot for [i = 1:words(series)] file(word(series, i)) using 1:2:3:4 with yerrorlines \
     lw 2 pt ptype(word(series, i)) ps 0.7 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) \
     title word(series, i)

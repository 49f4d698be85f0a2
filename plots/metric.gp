# metric.gp: one metric (median over repetitions) against the swept value, per series: server
# CPU per request, listen overflows. Columns: x, value.
load plotdir."/common.gp"
set title ttl
set xlabel xlab
set ylabel ylab
if (logx) { set logscale x 2 }
if (logy) { set logscale y 10 } else { set yrange [0:*] }
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.7 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) \
     title word(series, i)

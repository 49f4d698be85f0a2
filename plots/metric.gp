# metric.gp: one metric (median over repetitions) against the swept value, per series: server
# CPU per request, listen overflows. Columns: x, value. Set by bench/plot: ylab, logy, and for
# counts counts=1 and ymax (the largest value).
load plotdir."/common.gp"
set title fulltitle
set xlabel xlab
set ylabel ylab
if (logx) { set logscale x 2 }
if (logy) { set logscale y 10 } else { set yrange [0:*] }
# Counts below 5 (all zero, say) get whole ticks and room above, not 0.2 steps or [-1:1].
if (!logy && exists("counts") && counts && ymax < 5) { set yrange [0:(ymax < 1 ? 1 : ymax + 1)]; set ytics 1 }
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with linespoints \
     lw 2 pt ptype(word(series, i)) ps 0.7 lc rgb color(word(series, i)) \
     dt dash(word(series, i)) \
     title word(series, i)

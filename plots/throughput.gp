# throughput.gp: requests per second against the swept value, per series, with error bars:
# the 95% interval of the median over the repetitions, from order statistics (below 6
# repetitions, their range). No mark for a wide interval (the bars show it, and the page's
# verdict says which models are told apart); a cross marks a configuration that kept a
# repetition disturbed by other work on the machine. Columns: x, median, lo, hi, disturbed
# (0/1). Set by bench/plot: bars (what the error bars are, for the key), ndisturbed (how
# many configurations are marked).
load plotdir."/common.gp"
set title fulltitle
set xlabel xlab
set ylabel "requests per second (median)"
if (logx) { set logscale x 2 }
set yrange [0:*]
# What the bars are, in the key's title (a double-quoted string from bench/plot, with \n).
set key title bars font ",9"
dist_key = ndisturbed > 0 ? sprintf("disturbed (%d)", ndisturbed) : ""
plot for [i = 1:words(series)] file(word(series, i)) using 1:2:3:4 with yerrorlines \
         lw 2 pt ptype(word(series, i)) ps 0.7 lc rgb color(word(series, i)) \
         dt dash(word(series, i)) title word(series, i), \
     for [i = 1:(ndisturbed > 0 ? words(series) : 0)] file(word(series, i)) \
         using 1:($5 > 0 ? $2 : 1/0) with points pt 2 ps 2.0 lw 1.5 lc rgb "#cc0000" \
         title (i == 1 ? dist_key : "")

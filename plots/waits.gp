# waits.gp: the book's figures 5.5, 5.7, 5.9 and 5.11: how long each of the 30 concurrent
# requests waited for the greeting (connect until greeting), in the order they were served
# (shortest wait first), one line per model. Columns: request number, ms.
load plotdir."/common.gp"
set title fulltitle
set xlabel "request, in the order served"
set ylabel "wait for the greeting, ms"
set xrange [0.5:*]
set xtics autofreq
set yrange [0:*]
plot for [i = 1:words(series)] file(word(series, i)) using 1:2 with linespoints \
     lw 2 pt 7 ps 0.6 lc rgb color(word(series, i)) title word(series, i)

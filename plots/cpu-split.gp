# cpu-split.gp: CPU time per request against the swept value, in four panels on one log scale
# (so that fork-srv's milliseconds do not squash the others' tenths): the server's user time
# (the sieve, the model's own bookkeeping), its system time (the kernel: connections, copies,
# page faults, scheduling), the client's (loadgen's user and system), and the whole machine's
# (every CPU's busy time over the cell, from /proc/stat: on loopback the kernel's network work
# lands on whichever of server and client runs, so their split moves while this sum holds).
# Columns: x, user_ms, sys_ms, client_ms, machine_ms (medians; NaN where not recorded). Set
# by bench/plot: ylo, yhi (the smallest and largest value over every panel), hasm (1 when
# the run recorded the machine's CPU).
load plotdir."/common.gp"
if (fmt eq "svg") {
    set terminal svg size 1290,820 font "DejaVu Sans,12" background rgb "white"
} else {
    set terminal pngcairo size 1290,820 font "DejaVu Sans,10" background rgb "white"
}
set output out.".".fmt
set multiplot layout 2, 2 title fulltitle margins 0.07, 0.84, 0.08, 0.88 spacing 0.07, 0.12
# the key beside the panels, never over a line
set key at screen 0.855, screen 0.88 left top box lc rgb "#bbbbbb"
if (logx) { set logscale x 2 }
set xlabel xlab
set ylabel "ms per request (log scale)"
set logscale y 10
set yrange [10 ** floor(log10(ylo)) : 10 ** (floor(log10(yhi)) + 1)]
ptitle(k) = k == 2 ? "server: user time" : k == 3 ? "server: system time" : \
            k == 4 ? "client (loadgen): user + system" : "whole machine: every CPU's busy time"
do for [k = 2:5] {
    set title ptitle(k)
    if (k > 2) { unset key }
    if (k == 5 && !hasm) {
        set label 1 "not recorded in this run (made before cells kept it)" at graph 0.5, 0.5 center
    }
    plot for [i = 1:words(series)] file(word(series, i)) using 1:k with linespoints \
         lw 2 pt ptype(word(series, i)) ps 0.6 lc rgb color(word(series, i)) \
         dt dash(word(series, i)) title (k == 2 ? word(series, i) : "")
}
unset multiplot

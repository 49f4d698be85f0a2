# common.gp: the terminal, fonts and one fixed colour per model, shared by every plot.
# Callers set: out (file name without extension), fmt ("png" or "svg").
if (fmt eq "svg") {
    set terminal svg size 860,520 font "DejaVu Sans,12" background rgb "white"
} else {
    set terminal pngcairo size 860,520 font "DejaVu Sans,10" background rgb "white"
}
set output out.".".fmt
set grid lc rgb "#dddddd"
set key outside right top box lc rgb "#bbbbbb"
set border lc rgb "#555555"

# A series is a model, optionally with an accept lock, accept mode, dynamic pool, poller or
# sieve allocation ("prefork/fcntl", "prethread/main", "prefork/dynamic", "reactor/poll",
# "prethread/reuse"): its colour comes from the model registry (servers/models), written by
# bench/plot as color(s) into `colours`; the dash tells the lock, accept mode or poller, the
# point a dynamic pool or a reused sieve array.
load colours
dash(s) = (strstrt(s, "mutex") > 0 || strstrt(s, "-poll") > 0) ? 2 : \
          (strstrt(s, "fcntl") > 0 || strstrt(s, "-select") > 0) ? 3 : \
          (strstrt(s, "-main") > 0 || strstrt(s, "-pass") > 0 || \
           strstrt(s, "-exclusive") > 0) ? 4 : 1
# Each model has its own point type as well as its colour (mpt(s), from the registry's order,
# in `colours`); a dynamic pool or a reused sieve array draws the open form of a filled one.
ptype(s) = ((strstrt(s, "dynamic") > 0 || strstrt(s, "-reuse") > 0) && mpt(s) >= 5 && \
            mpt(s) % 2 == 1) ? mpt(s) - 1 : mpt(s)
# A little room beside the first and the last value, so that no point sits on the frame.
set offsets graph 0.04, graph 0.04, 0, 0
# Categorical x (idle counts, think times): bench/plot passes the tics.
if (exists("xticset") && strlen(xticset) > 0) { eval xticset }
file(s) = sprintf("%s/%s.tsv", datadir, s)
# The title: bench/plot passes the suite's heading (ttl) and what the plot shows (ttl2), drawn
# on two lines so that neither is cut off.
fulltitle = (exists("ttl2") && strlen(ttl2) > 0) ? ttl."\n".ttl2 : ttl

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

# A series is a model, optionally with an accept lock ("prefork/fcntl"). prethread and prefork
# are tested before thread and fork, whose names they contain.
color(s) = (strstrt(s, "prethread") > 0) ? "#1b9e77" : \
           (strstrt(s, "prefork") > 0) ? "#d95f02" : \
           (strstrt(s, "thread") > 0) ? "#7570b3" : \
           (strstrt(s, "fork") > 0) ? "#e7298a" : "#444444"
dash(s) = (strstrt(s, "mutex") > 0) ? 2 : (strstrt(s, "fcntl") > 0) ? 3 : 1
file(s) = sprintf("%s/%s.tsv", datadir, s)

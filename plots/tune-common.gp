# tune-common.gp: the terminal of bench/tune's plots. Callers set: out (the file without its
# extension), fmt ("png" or "svg"), ttl (the heading).
if (fmt eq "svg") {
    set terminal svg size 860,520 font "DejaVu Sans,12" background rgb "white"
} else {
    set terminal pngcairo size 860,520 font "DejaVu Sans,10" background rgb "white"
}
set output out.".".fmt
set grid lc rgb "#dddddd"
set border lc rgb "#555555"
set key outside right top box lc rgb "#bbbbbb"

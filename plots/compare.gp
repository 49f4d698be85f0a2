# compare.gp: bench/compare --html: run A and run B drawn over each other, configuration by
# configuration (x: each compared configuration, its label a tic from the data), throughput
# or p99, the median with its 95% interval. Set by bench/compare: fmt, out, what
# ("throughput" or "p99"), n (configurations). Data (overlay.tsv): index, A rps median, lo,
# hi, B rps median, lo, hi, A p99 ms median, lo, hi, B p99 ms median, lo, hi, label.
w = n > 12 ? 300 + 34 * n : 860
if (fmt eq "svg") {
    set terminal svg size w,560 font "DejaVu Sans,12" background rgb "white"
} else {
    set terminal pngcairo size w,560 font "DejaVu Sans,10" background rgb "white"
}
set output out.".".fmt
set termoption noenhanced
set grid ytics lc rgb "#dddddd"
set border lc rgb "#555555"
set key outside right top box lc rgb "#bbbbbb"
set xrange [-0.6:n - 0.4]
set xtics rotate by -40 left font ",9" nomirror
set bmargin 12
# tab-separated: a label holds spaces ("prethread c=32")
set datafile separator "\t"
f = "overlay.tsv"
if (what eq "throughput") {
    set title "throughput of each configuration: A and B (median, 95% interval)"
    set ylabel "requests per second"
    set yrange [0:*]
    plot f using ($1 - 0.12):2:3:4:xticlabels(14) with yerrorbars pt 6 ps 1.2 lw 1.5 \
             lc rgb "#1f77b4" title "A", \
         f using ($1 + 0.12):5:6:7 with yerrorbars pt 7 ps 1.0 lw 1.5 lc rgb "#d62728" title "B"
} else {
    set title "p99 of each configuration: A and B (median, 95% interval)"
    set ylabel "p99 of total time, ms"
    set logscale y 10
    plot f using ($1 - 0.12):8:9:10:xticlabels(14) with yerrorbars pt 6 ps 1.2 lw 1.5 \
             lc rgb "#1f77b4" title "A", \
         f using ($1 + 0.12):11:12:13 with yerrorbars pt 7 ps 1.0 lw 1.5 lc rgb "#d62728" title "B"
}

# stats.jq: the statistics every bench script shares (jq -L bench 'include "stats"; ...').
#
# Repetitions of a benchmark are few (3 to 10) and not normal: interference only ever slows a
# run, so the spread has a long tail on one side. The centre is the median. Its interval, and
# the interval of a ratio between two runs, come from bench/run's statistics in C
# (bench/src/bstats.c: bench/run --summary-stats, --ratio-intervals), the ones that also
# decide a suite's repetitions.

def median: sort | if length == 0 then null
    elif length % 2 == 1 then .[(length - 1) / 2]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def mean: if length == 0 then null else add / length end;
def stddev: if length < 2 then 0
    else mean as $m | (map((. - $m) * (. - $m)) | add) / (length - 1) | sqrt end;
def round6: (. * 1000000 | round) / 1000000;

# Median, mean, stddev (sample), cv (stddev / mean), min, max of the input numbers (nulls
# left out); null when there are none.
def describe: map(select(. != null)) |
    if length == 0 then null else
    (mean) as $m | (stddev) as $s |
    {n: length, median: (median | round6), mean: ($m | round6), stddev: ($s | round6),
     cv: (if $m == 0 then 0 else ($s / $m | round6) end), min: min, max: max} end;

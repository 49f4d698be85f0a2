# stats.jq: the statistics every bench script shares (jq -L bench 'include "stats"; ...').
#
# Repetitions of a benchmark are few (3 to 10) and not normal: interference only ever slows a
# run, so the spread has a long tail on one side. The centre is the median, and its interval
# is a percentile bootstrap of the median, which assumes nothing about the shape.

def median: sort | if length == 0 then null
    elif length % 2 == 1 then .[(length - 1) / 2]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def mean: if length == 0 then null else add / length end;
def stddev: if length < 2 then 0
    else mean as $m | (map((. - $m) * (. - $m)) | add) / (length - 1) | sqrt end;
def round6: (. * 1000000 | round) / 1000000;

# The 95% interval of the median of the input numbers, [lo, hi]: the 2.5th and 97.5th
# percentiles of the medians of 1,000 resamples (with replacement) of the values. The
# resamples come from a fixed-seed generator (Park and Miller's, exact in doubles), so the
# same values always give the same interval. Below 6 values the bootstrap's interval is
# exactly the range (the smallest value is a resample's median more than 2.5% of the time), so
# it is taken directly: [min, max]; one value gives [v, v]; none gives null.
def median_ci95:
    map(select(. != null)) | sort as $x | ($x | length) as $n
    | if $n == 0 then null
      elif $n < 6 then [$x[0], $x[-1]]
      else
        [limit(1000 * $n; (7919 + $n) | recurse((. * 16807) % 2147483647)) | $x[. % $n]] as $d
        | [range(0; 1000) as $b | $d[$b * $n:($b + 1) * $n] | median] | sort
        | [.[25], .[974]]
      end;

# How wide that interval is, as a percentage of the median: its larger distance from the
# median ("the median is known to within +-X%"); null below 2 values (nothing known yet).
def ci_pct:
    map(select(. != null)) as $v
    | if ($v | length) < 2 then null else
      ($v | median) as $m | ($v | median_ci95) as $ci
      | if $m == 0 then 0 else ([$m - $ci[0], $ci[1] - $m] | max) / $m * 100 end
      end;

# Median, mean, stddev (sample), cv (stddev / mean), min, max of the input numbers (nulls
# left out), and with boot true the 95% interval of the median (ci95) and ci_pct.
def describe(boot): map(select(. != null)) |
    if length == 0 then null else
    . as $v | (mean) as $m | (stddev) as $s |
    {n: length, median: (median | round6), mean: ($m | round6), stddev: ($s | round6),
     cv: (if $m == 0 then 0 else ($s / $m | round6) end), min: min, max: max}
    + (if boot then {ci95: ($v | median_ci95 | map(round6)),
                     ci_pct: ($v | ci_pct | if . == null then null else round6 end)}
       else {} end) end;

# The 95% bootstrap interval of median(b) / median(a), [lo, hi], from 1,000 resamples of each
# (fixed seeds, as above); null when either has no value or a resample's median of a is 0.
def ratio_ci95($a; $b):
    ($a | map(select(. != null))) as $x | ($b | map(select(. != null))) as $y
    | ($x | length) as $na | ($y | length) as $nb
    | if $na == 0 or $nb == 0 then null else
        [limit(1000 * $na; (104729 + $na) | recurse((. * 16807) % 2147483647)) | $x[. % $na]] as $da
        | [limit(1000 * $nb; (130363 + $nb) | recurse((. * 16807) % 2147483647)) | $y[. % $nb]] as $db
        | [range(0; 1000) as $i | ($da[$i * $na:($i + 1) * $na] | median) as $ma
           | if $ma == 0 then empty else ($db[$i * $nb:($i + 1) * $nb] | median) / $ma end]
        | if length < 1000 then null else sort | [.[25], .[974]] end
      end;

# bench/runcheck.jq: what a run's files must hold where the tools read numbers. A run directory
# may come from anyone (a colleague's, an attachment): bench/compare and bench/report check it
# with this before they compute anything, and refuse it (exit 2) naming the file and the key.
# A string where a number belongs would otherwise sort above every number in jq and turn a
# comparison or a page quietly wrong.
#
# malformed($file): one line per value that is not what it should be, "FILE: KEY: what".

# A number, or null where a run may lack one.
def num_or_null: type == "number" or type == "null";

def where($p): $p | map(if type == "number" then "[\(.)]" else ".\(.)" end) | join("");

# Each check is given the document ($root) and a path in it, whatever its input is.
def say($root; $file; $p; $want):
    "\($file): \(where($p)): \($root | getpath($p) | tojson | .[0:60]) is not \($want)";

def check_num($root; $file; $p):
    if ($root | getpath($p) | num_or_null) then empty else say($root; $file; $p; "a number") end;

def check_nums($root; $file; $p):
    ($root | getpath($p)) as $v
    | if $v == null then empty
      elif ($v | type) != "array" then say($root; $file; $p; "a list of numbers")
      else range(0; $v | length) as $i | check_num($root; $file; $p + [$i]) end;

# run.json: the noise floor and the cells' repetitions.
def run_malformed($file):
    . as $r
    | if type != "object" then "\($file): not a JSON object"
    else
        (if .noise_floor == null then empty
         elif (.noise_floor | type) != "object" then say($r; $file; ["noise_floor"]; "an object")
         else check_num($r; $file; ["noise_floor", "cv_pct"]), check_num($r; $file; ["noise_floor", "median"]),
              check_nums($r; $file; ["noise_floor", "rates"]) end),
        (if .cells == null then empty
         elif (.cells | type) != "array" then say($r; $file; ["cells"]; "a list of cells")
         else range(0; .cells | length) as $i
              | check_num($r; $file; ["cells", $i, "rep"]), check_num($r; $file; ["cells", $i, "round"]),
                check_num($r; $file; ["cells", $i, "block"]) end)
    end;

# summary.json: every statistic of every configuration, the samples and the counts.
def summary_malformed($file):
    . as $r
    | if type != "object" or (.configs | type) != "array" then "\($file): no list of configs"
    else
        range(0; .configs | length) as $i | .configs[$i] as $c
        | (["reps", "failed", "skipped", "conc", "work", "bytes", "backlog", "workers"][]
           | check_num($r; $file; ["configs", $i, .])),
          (if $c.stats == null then empty
           elif ($c.stats | type) != "object" then say($r; $file; ["configs", $i, "stats"]; "an object")
           else ($c.stats | keys[]) as $k
                | if $c.stats[$k] == null then empty
                  elif ($c.stats[$k] | type) != "object" then say($r; $file; ["configs", $i, "stats", $k]; "an object")
                  else (["n", "median", "mean", "stddev", "cv", "min", "max", "ci_level", "ci_pct"][]
                        | check_num($r; $file; ["configs", $i, "stats", $k, .])),
                       check_nums($r; $file; ["configs", $i, "stats", $k, "ci95"]) end end),
          (if $c.samples == null then empty
           elif ($c.samples | type) != "object" then say($r; $file; ["configs", $i, "samples"]; "an object")
           else ($c.samples | keys[]) as $k | check_nums($r; $file; ["configs", $i, "samples", $k]) end)
    end;

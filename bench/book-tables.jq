# book-tables.jq: the book suite's summary as the book's tables 5.6 and 5.7 (Markdown), each
# beside the book's figures (Zahn, ch. 5: a two-CPU server of its day; times() ticks, 100 per
# second). Absolute times cannot compare across 25 years of hardware; the ratios to the
# iterative server can.
def book: {
  iterative: {conc: 10.54, seq: 10.84, cpu: 909, wait: 514.83},
  fork:      {conc: 6.34,  seq: 10.96, cpu: 1157, wait: 39.40},
  thread:    {conc: 6.28,  seq: 10.93, cpu: 1150, wait: 10.77},
  prefork:   {conc: 5.53,  seq: 10.81, cpu: 983,  wait: 214.10},
  prethread: {conc: 5.40,  seq: 10.67, cpu: 979,  wait: 212.53}
};
def f2: (. * 100 | round) / 100 | tostring;
def f3: (. * 1000 | round) / 1000 | tostring;
def cell($m; $c): [.configs[] | select(.model == $m and .conc == $c)][0];

. as $s
| [.configs[].model] | unique as $present
# The book's rows, in its order; its first, the iterative server, is what the ratios are to.
| book | keys_unsorted | map(select(. as $m | $present | index($m))) as $models
| (book | keys_unsorted[0]) as $base
| ($s | cell($base; 30).stats.server_cpu_s.median) as $it_cpu
| ($s | cell($base; 30).stats.greeting_mean_us.median) as $it_wait
| (
  "### Table 5.6: client run time for 30 requests, and server CPU",
  "",
  "Medians over the repetitions. Run time: from the first connect to the last byte, 30 clients with one request each (sequential: one client with 30 requests). Server CPU: user + system time of the server and its children over the concurrent run.",
  "",
  "| model | 30 concurrent, s | 30 sequential, s | sequential / concurrent | server CPU, s | CPU vs iterative | book: concurrent (sequential), s | book: seq / conc | book: CPU ticks | book: CPU vs iterative |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ($models[] as $m
   | ($s | cell($m; 30).stats) as $c | ($s | cell($m; 1).stats) as $q | book[$m] as $b
   | "| \($m) | \($c.elapsed_s.median | f3) | \($q.elapsed_s.median | f3) | \($q.elapsed_s.median / $c.elapsed_s.median | f2) | \($c.server_cpu_s.median | f3) | \($c.server_cpu_s.median / $it_cpu | f2) | \($b.conc) (\($b.seq)) | \($b.seq / $b.conc | f2) | \($b.cpu) | \($b.cpu / book.iterative.cpu | f2) |"),
  "",
  "### Table 5.7: mean response time at 30 concurrent requests (connect until greeting)",
  "",
  "| model | mean wait for the greeting, ms | vs iterative | book: ticks | book: vs iterative |",
  "|---|---:|---:|---:|---:|",
  ($models[] as $m
   | ($s | cell($m; 30).stats) as $c | book[$m] as $b
   | "| \($m) | \($c.greeting_mean_us.median / 1000 | f3) | \($c.greeting_mean_us.median / $it_wait | f3) | \($b.wait) | \($b.wait / book.iterative.wait | f3) |")
  )

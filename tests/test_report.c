/* bench/report and bench/compare --html: the page bench/run writes at the end of a suite holds
 * the summary (a row per configuration), every plot inline, a link to every cell and the run's
 * record; a model name with markup in it is shown as text; the page works in a real browser
 * (headless Chromium: every image drawn, nothing on the console, the table and the plots in
 * the first screen); the comparison's page marks what differs between the runs. The suite is
 * "bench": these run bench/run. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void bin_env(void)
{
    const char *d = getenv("SRV_BIN");
    char abs[PATH_MAX];
    if (realpath(d && *d ? d : "bin", abs))
        setenv("BENCH_BIN", abs, 1);
}

static int run(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A small run of two models at two concurrencies. */
static const char *small_run(void)
{
    static char dir[256];
    bin_env();
    snprintf(dir, sizeof dir, "/tmp/cb-report-%d", (int)getpid());
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && bench/run smoke --models 'reactor prethread' --conc '2 8' --reps 2 "
             "--max-reps 2 --duration 2s --warmup 0.2s --probe 0 --out %s > %s.out 2> %s.err",
             dir, dir, dir, dir);
    cr_assert_eq(run(cmd), 0, "%s (see %s.err)", cmd, dir);
    return dir;
}

static void report_of_the_suite(const char *dir)
{
    char cmd[2048], page[300];
    snprintf(page, sizeof page, "%s/report.html", dir);
    struct stat sb;
    cr_assert(stat(page, &sb) == 0 && sb.st_size > 10000, "no report at %s", page);
    /* bench/run says where it is, last */
    snprintf(cmd, sizeof cmd, "tail -n 1 %s.err | grep -qF '%s'", dir, page);
    cr_expect_eq(run(cmd), 0, "bench/run did not end by naming %s", page);
    /* the verdict first: a sentence per configuration of the verdicts, each naming the model
     * ranked first there, before the summary table */
    snprintf(cmd, sizeof cmd,
             "v=$(grep -n 'id=\"verdict\"' %s | cut -d: -f1) && t=$(grep -n "
             "'id=\"summary-table\"' %s | cut -d: -f1) && [ \"$v\" -lt \"$t\" ] && "
             "[ $(grep -c '<p class=\"vs\">' %s) -eq $(jq '.verdicts | length' %s/summary.json) ] "
             "&& jq -r '.verdicts[] | \"At \\(.conc) clients, \\(.ranking[0].model) \"' "
             "%s/summary.json | while read -r l; do grep -qF \"<p class=\\\"vs\\\">$l\" %s || "
             "exit 1; done",
             page, page, page, dir, dir, page);
    cr_expect_eq(run(cmd), 0, "the verdict is not first, or does not name the top model: %s", cmd);
    /* a row per configuration, an image per plot, a link per cell */
    snprintf(cmd, sizeof cmd,
             "[ $(sed -n '/<table class=\"sortable\" id=\"summary-table\">/,/<\\/table>/p' %s "
             "| grep -c '^<tr') -eq $(jq '.configs | length' %s/summary.json) ]",
             page, dir);
    cr_expect_eq(run(cmd), 0, "the summary table has not a row per configuration");
    snprintf(cmd, sizeof cmd,
             "[ $(grep -o '<img src=\"data:image/svg+xml;base64,' %s | wc -l) -eq "
             "$(ls %s/plots/*.svg | wc -l) ] && [ $(ls %s/plots/*.svg | wc -l) -ge 6 ]",
             page, dir, dir);
    cr_expect_eq(run(cmd), 0, "not every plot is on the page");
    snprintf(cmd, sizeof cmd,
             "grep -q '>reactor<' %s/plots/heatmaps.svg && grep -q '>prethread<' "
             "%s/plots/heatmaps.svg",
             dir, dir);
    cr_expect_eq(run(cmd), 0, "no heatmap panel per model");
    snprintf(cmd, sizeof cmd,
             "for f in %s/cells/*.json; do id=$(basename $f .json); "
             "grep -qF \"href=\\\"cells/$id.json\\\"\" %s || { echo $id; exit 1; }; done",
             dir, page);
    cr_expect_eq(run(cmd), 0, "a cell has no link");
    snprintf(cmd, sizeof cmd,
             "grep -q '<caption>machine</caption>' %s && grep -qF \"$(uname -r)\" %s && "
             "grep -q 'loadgen 1' %s && grep -q 'no pinning' %s",
             page, page, page, page);
    cr_expect_eq(run(cmd), 0, "the run's record is not on the page");
    /* -o elsewhere: the links lead to the same cells */
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s-o/x && bench/report %s -o %s-o/x/page.html 2>/dev/null && "
             "grep -qF 'href=\"../../cb-report-%d/cells/' %s-o/x/page.html",
             dir, dir, dir, (int)getpid(), dir);
    cr_expect_eq(run(cmd), 0, "-o: %s", cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s-o", dir);
    run(cmd);
}

Test(bench, report_shows_markup_from_a_run_as_text, .timeout = 180)
{
    /* a reference run: no measurement needed */
    const char *dir = "results/reference/book";
    char cmd[8192], copy[128];
    snprintf(copy, sizeof copy, "/tmp/cb-report-hostile-%d", (int)getpid());
    /* a copy of the run whose model names, suite title and an error hold markup */
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && cp -r %s %s && rm -rf %s/plots %s/report.html && "
             "jq '.configs[0].model = \"<script>alert(1)</script>\" | "
             ".configs[0].noise_cause = \"<img src=x onerror=alert(2)>\" | .configs[0].noisy = "
             "true' %s/summary.json > %s/s && mv %s/s %s/summary.json && "
             "jq '.matrix.TITLE = \"t</title><script>alert(3)</script>\"' %s/run.json > %s/r && "
             "mv %s/r %s/run.json && f=$(ls %s/cells/*.json | head -1) && "
             "jq '.status = \"failed\" | .error = \"<b onmouseover=alert(4)>x</b>\"' $f > %s/c && "
             "mv %s/c $f && bench/report %s 2> %s.err",
             copy, dir, copy, copy, copy, copy, copy, copy, copy, copy, copy, copy, copy, copy,
             copy, copy, copy, copy);
    cr_assert_eq(run(cmd), 0, "bench/report on a hostile run: %s", cmd);
    char page[400];
    snprintf(page, sizeof page, "%s/report.html", copy);
    snprintf(cmd, sizeof cmd,
             "! grep -qF '<script>alert' %s && ! grep -qF '<img src=x' %s && "
             "! grep -qF '<b onmouseover' %s && "
             "grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' %s && "
             "grep -qF '&lt;img src=x onerror=alert(2)&gt;' %s && "
             "grep -qF 't&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt;' %s && "
             "grep -qF '&lt;b onmouseover=alert(4)&gt;x&lt;/b&gt;' %s",
             page, page, page, page, page, page, page);
    cr_expect_eq(run(cmd), 0, "markup from the run reached the page as markup (%s)", page);
    /* bench/plot refuses such a model name: the page says so, and is still written */
    snprintf(cmd, sizeof cmd, "grep -q 'The plots could not be drawn' %s", page);
    cr_expect_eq(run(cmd), 0, "the page does not say why it has no plots");
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.err", copy, copy);
    run(cmd);
}

/* Headless Chromium loads the page in a frame of a test page of its own (the report's
 * Content-Security-Policy allows no script but the report's), which reports what it sees. */
/* The page of the default suite's reference run, made afresh: under 5 MB, and whole in a
 * browser. */
Test(bench, report_works_in_a_browser, .timeout = 180)
{
    if (run("command -v chromium >/dev/null") != 0)
        cr_skip_test("chromium is not installed (ci/install-deps.sh --ci installs it)");
    char dir[256], cmd[4096], probe[300];
    snprintf(dir, sizeof dir, "/tmp/cb-report-browser-%d", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && mkdir -p %s && bench/report results/reference/default --plots "
             "plots/reference/default -o %s/report.html 2>/dev/null && "
             "cp results/reference/default/summary.json %s/ && mkdir %s/plots && "
             "cp plots/reference/default/*.svg %s/plots/ && "
             "[ $(stat -c %%s %s/report.html) -lt 5000000 ]",
             dir, dir, dir, dir, dir, dir, dir);
    cr_assert_eq(run(cmd), 0, "the default suite's page, under 5 MB: %s", cmd);
    snprintf(probe, sizeof probe, "%s/probe.html", dir);
    FILE *f = fopen(probe, "w");
    cr_assert(f);
    fputs("<!DOCTYPE html><html><body><iframe id=f src=\"report.html\" "
          "style=\"width:1400px;height:2400px\"></iframe><pre id=out>waiting</pre><script>\n"
          "document.getElementById('f').addEventListener('load', function () {\n"
          "  setTimeout(function () {\n"
          "    var d = this.contentDocument, imgs = Array.from(d.images);\n"
          "    var broken = imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; "
          "});\n"
          "    var t = d.getElementById('summary-table'), fig = d.querySelector('figure img');\n"
          "    var vd = d.getElementById('verdict').getBoundingClientRect();\n"
          "    var tr = t ? t.getBoundingClientRect() : null, fr = fig ? "
          "fig.getBoundingClientRect() : null;\n"
          "    t.querySelector('th').click(); t.querySelector('th').click();\n"
          "    var sorted = t.querySelector('th').getAttribute('aria-sort');\n"
          "    document.getElementById('out').textContent = 'RESULT images=' + imgs.length +\n"
          "      ' broken=' + broken.length + ' rows=' + t.tBodies[0].rows.length +\n"
          "      ' table_top=' + Math.round(tr.top) + ' table_h=' + Math.round(tr.height) +\n"
          "      ' plot_top=' + Math.round(fr.top) + ' plot_w=' + Math.round(fr.width) +\n"
          "      ' sorted=' + sorted + ' verdict_top=' + Math.round(vd.top) +\n"
          "      ' vs=' + encodeURIComponent((d.querySelector('#verdict .vs') || {}).textContent "
          "|| '') + ' END';\n"
          "  }.bind(this), 500);\n"
          "});\n</script></body></html>\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cd %s && timeout 120 chromium --headless --no-sandbox --disable-gpu "
             "--allow-file-access-from-files --enable-logging=stderr --v=0 "
             "--virtual-time-budget=10000 --window-size=1440,2600 --dump-dom "
             "file://%s/probe.html > probe.dom 2> probe.log; "
             "grep -o 'RESULT.*END' probe.dom > probe.txt",
             dir, dir);
    cr_assert_eq(run(cmd), 0, "chromium did not report (see %s/probe.log)", dir);
    snprintf(cmd, sizeof cmd,
             "cd %s && cat probe.txt && grep -q ' broken=0 ' probe.txt && "
             "grep -q \"rows=$(jq '.configs | length' summary.json) \" probe.txt && "
             "grep -q \"images=$(ls plots/*.svg | wc -l) \" probe.txt && "
             "awk '{ for (i = 1; i <= NF; i++) { split($i, kv, \"=\"); v[kv[1]] = kv[2] } } "
             "END { exit !(v[\"table_h\"] > 50 && v[\"table_top\"] < 2400 && "
             "v[\"plot_w\"] > 300 && v[\"plot_top\"] < 2400 && v[\"sorted\"] == \"descending\" "
             "&& v[\"verdict_top\"] < v[\"table_top\"] && v[\"verdict_top\"] < v[\"plot_top\"]) }' "
             "probe.txt",
             dir);
    cr_expect_eq(run(cmd), 0, "the page in Chromium: %s/probe.txt", dir);
    /* the verdict's first sentence names the top model of the first configuration's
     * verdict, and the verdict starts in the first screen of a 1440x900 window */
    snprintf(cmd, sizeof cmd,
             "cd %s && vs=$(grep -o ' vs=[^ ]*' probe.txt | cut -d= -f2-) && "
             "top=$(jq -r '.verdicts[0].ranking[0].model | @uri' summary.json) && "
             "[ \"$top\" != null ] && case \"$vs\" in *\"%%20$top%%20\"*) ;; *) exit 1;; "
             "esac && "
             "[ $(grep -o 'verdict_top=[0-9]*' probe.txt | cut -d= -f2) -lt 900 ]",
             dir);
    cr_expect_eq(run(cmd), 0,
                 "the verdict's sentence does not name the top model, or starts below "
                 "the first screen (%s/probe.txt)",
                 dir);
    /* nothing on the console: no script error, no resource refused or missing */
    snprintf(cmd, sizeof cmd,
             "cd %s && ! grep -E 'CONSOLE|Refused|Failed to load|Uncaught' probe.log", dir);
    cr_expect_eq(run(cmd), 0, "the console had something to say (%s/probe.log)", dir);
    /* the screenshot of the page itself: drawn, and not a blank one */
    snprintf(cmd, sizeof cmd,
             "cd %s && timeout 120 chromium --headless --no-sandbox --disable-gpu "
             "--window-size=1440,2600 --screenshot=%s/shot.png file://%s/report.html "
             ">/dev/null 2>&1; [ $(stat -c %%s shot.png) -gt 60000 ]",
             dir, dir, dir);
    cr_expect_eq(run(cmd), 0, "no screenshot of the page, or a blank one (%s/shot.png)", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(cmd);
}

static void compare_page(const char *dir)
{
    char cmd[4096], b[300];
    snprintf(b, sizeof b, "%s-b", dir);
    /* B: the same run with another kernel and a sysctl recorded, and half the throughput */
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && cp -r %s %s && "
             "jq '.context.kernel = \"9.9.9-other\" | .context.sysctl.tcp_syncookies = 0' "
             "%s/run.json > %s/r && mv %s/r %s/run.json && "
             "for f in %s/cells/*.json; do jq '.loadgen.totals.rps /= 2' $f > $f.t && "
             "mv $f.t $f; done && "
             "bench/compare %s %s --html %s/cmp.html > %s/cmp.out 2>&1; echo $? > %s/cmp.rc",
             b, dir, b, b, b, b, b, b, dir, b, b, b, b);
    run(cmd);
    /* two repetitions against two cannot show a change at 95%: the ratio is there, the
     * verdict says why there is none */
    snprintf(cmd, sizeof cmd, "grep -qx 0 %s/cmp.rc", b);
    cr_expect_eq(run(cmd), 0, "bench/compare --html failed (%s/cmp.out)", b);
    char page[400];
    snprintf(page, sizeof page, "%s/cmp.html", b);
    snprintf(
        cmd, sizeof cmd,
        "grep -q '<td>0.5</td>' %s && grep -q '<td class=\"no-change\">no change<br><small>2 and "
        "2 repetitions cannot show a change' %s && "
        "grep -q '<tr class=\"differs\"><th>kernel</th>' %s && "
        "grep -q '<tr class=\"differs\"><th>sysctl tcp_syncookies</th>' %s && "
        "! grep -q '<tr class=\"differs\"><th>host</th>' %s && "
        "[ $(grep -o '<img src=\"data:image/svg+xml;base64,' %s | wc -l) -eq 2 ]",
        page, page, page, page, page, page);
    cr_expect_eq(run(cmd), 0, "the comparison's page (%s)", page);
    /* the overlay's tick labels name each configuration whole, model and concurrency */
    snprintf(cmd, sizeof cmd,
             "grep -o 'data:image/svg+xml;base64,[A-Za-z0-9+/=]*' %s | head -n1 | cut -d, -f2 | "
             "base64 -d > %s.svg && grep -q 'reactor c=2' %s.svg && grep -q 'prethread c=8' %s.svg",
             page, page, page, page);
    cr_expect_eq(run(cmd), 0, "the comparison's plot does not label model and concurrency (%s.svg)",
                 page);
    snprintf(cmd, sizeof cmd, "rm -rf %s", b);
    run(cmd);
}

/* One small suite for the page, the browser and the comparison. */
Test(bench, report_and_compare_pages_of_a_suite, .timeout = 300)
{
    const char *dir = small_run();
    report_of_the_suite(dir);
    compare_page(dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.out %s.err", dir, dir, dir);
    run(cmd);
}

/* The plots' colours tell every model and peer apart as seen with normal vision and with
 * deuteranopia and protanopia (simulated): no two closer than 12 in CIELAB
 * (tests/palette.sh); the model registry held the Tableau colours before, whose prethread and
 * prefork (green and orange) a protanope sees 4.6 apart. */
Test(bench, plot_colours_read_for_colour_blind_viewers, .timeout = 60)
{
    cr_expect_eq(system("tests/palette.sh 12"), 0, "tests/palette.sh: see the line above");
}

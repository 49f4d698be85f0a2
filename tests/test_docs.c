/* The manual: every option a binary's -h lists is in its man page, the pages render without
 * warnings, and `make install` puts binaries, pages and completion under DESTDIR/PREFIX and
 * `make uninstall` takes them away again. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/src/registry.h"

/* The options of `bin -h`, one per line, into out (a file). */
static int options_of(const char *bin, const char *out)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s -h | grep -oE -- '^ +(-[A-Za-z0-9], )?--?[A-Za-z0-9][a-z-]*|^ +-4, -6' "
             "| sed -E 's/^ +//' | tr ',' '\\n' | sed -E 's/^ +//' | sort -u > %s",
             bin, out);
    return system(cmd);
}

/* Every option listed by bin -h appears in the rendered page; the page renders cleanly. */
static void page_covers(const char *bin, const char *page)
{
    char opts[128], text[128], cmd[1024];
    snprintf(opts, sizeof opts, "/tmp/cb-doc-opts-%ld", (long)getpid());
    snprintf(text, sizeof text, "/tmp/cb-doc-text-%ld", (long)getpid());
    cr_assert_eq(options_of(bin, opts), 0);
    snprintf(cmd, sizeof cmd, "[ $(wc -l < %s) -ge 10 ]", opts);
    cr_expect_eq(system(cmd), 0, "%s -h lists fewer than 10 options", bin);
    snprintf(cmd, sizeof cmd,
             "MANWIDTH=120 man --warnings -l %s 2>%s.err | col -b > %s && [ ! -s %s.err ]", page,
             text, text, text);
    cr_expect_eq(system(cmd), 0, "man -l %s warned (see %s.err)", page, text);
    snprintf(cmd, sizeof cmd,
             "missing=''; while read -r o; do grep -qF -e \"$o\" %s || missing=\"$missing $o\"; "
             "done < %s; [ -z \"$missing\" ] || { echo \"not in %s:$missing\" >&2; exit 1; }",
             text, opts, page);
    cr_expect_eq(system(cmd), 0, "%s: an option of %s -h is not in the page", page, bin);
    unlink(opts);
    unlink(text);
    snprintf(cmd, sizeof cmd, "%s.err", text);
    unlink(cmd);
}

static const char *bindir(void)
{
    const char *d = getenv("SRV_BIN");
    return d && *d ? d : "bin";
}

Test(docs, loadgen_page_has_every_option, .timeout = 60)
{
    char bin[256];
    snprintf(bin, sizeof bin, "%s/loadgen", bindir());
    page_covers(bin, "man/loadgen.1");
}

Test(docs, server_page_has_every_option_of_every_model, .timeout = 60)
{
    FILE *p = popen("bench/models names", "r");
    cr_assert(p);
    char name[64];
    int n = 0;
    while (fscanf(p, "%63s", name) == 1) {
        char bin[256];
        snprintf(bin, sizeof bin, "%s/%s-srv", bindir(), name);
        page_covers(bin, "man/srv.1");
        n++;
    }
    pclose(p);
    cr_expect_geq(n, 9, "only %d models", n);
}

Test(docs, install_and_uninstall_under_destdir, .timeout = 120)
{
    char dest[128], cmd[1024];
    snprintf(dest, sizeof dest, "/tmp/cb-install-%ld", (long)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s && make -s install DESTDIR=%s PREFIX=/opt/cb >%s.log 2>&1",
             dest, dest, dest);
    cr_assert_eq(system(cmd), 0, "make install failed (see %s.log)", dest);
    snprintf(cmd, sizeof cmd,
             "cd %s/opt/cb && ./bin/loadgen --version | grep -q '^loadgen ' && "
             "./bin/prethread-srv --version | grep -q '^prethread-srv ' && "
             "./bin/uring-srv --version >/dev/null && ./bin/probe -h >/dev/null && "
             "MANWIDTH=80 man -l share/man/man1/loadgen.1 | grep -q LOADGEN && "
             "MANWIDTH=80 man -l share/man/man1/reactor-pool-srv.1 | grep -q reactor-pool-srv && "
             "[ -s share/bash-completion/completions/loadgen ] && "
             "[ -L share/bash-completion/completions/fork-srv ] && "
             "bash -c '. share/bash-completion/completions/loadgen && complete -p loadgen "
             "bench/run prethread-srv' >/dev/null",
             dest);
    cr_expect_eq(system(cmd), 0, "the installed tree is incomplete: %s", cmd);
    snprintf(cmd, sizeof cmd,
             "make -s uninstall DESTDIR=%s PREFIX=/opt/cb >>%s.log 2>&1 && "
             "[ -z \"$(find %s -type f -o -type l)\" ]",
             dest, dest, dest);
    cr_expect_eq(system(cmd), 0, "uninstall left files behind (see %s.log)", dest);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.log", dest, dest);
    cr_expect_eq(system(cmd), 0);
}

/* The help text of bin, whole, into buf; its length. */
static size_t help_of(const char *bin, char *buf, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --help", bin);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen %s", cmd);
    size_t len = fread(buf, 1, n - 1, p);
    buf[len] = 0;
    pclose(p);
    return len;
}

/* Each value of a registry column ("a,b" or "-") is named in the help text. */
static void values_in_help(const char *model, const char *col, const char *values, const char *help)
{
    char v[128];
    snprintf(v, sizeof v, "%s", values);
    for (char *save, *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save))
        cr_expect(strstr(help, t), "%s-srv --help does not name %s '%s' of its registry line",
                  model, col, t);
}

/* The registry (servers/models) and the binaries agree: -w where the w column says so, the
 * accept locks, accept modes or balance, and pollers each model's line lists, and none of
 * these options where its column is -. */
Test(docs, every_binary_takes_what_its_registry_line_says, .timeout = 60)
{
    static struct registry reg;
    char err[256];
    cr_assert_eq(registry_read("servers/models", &reg, err, sizeof err), 0, "%s", err);
    static char help[16384];
    int n = 0;
    for (size_t i = 0; i < reg.n; i++) {
        const char *name = reg.m[i].name, *w = reg.m[i].w, *locks = reg.m[i].locks;
        const char *accept = reg.m[i].accept, *pollers = reg.m[i].pollers;
        char bin[256];
        snprintf(bin, sizeof bin, "%s/%s-srv", bindir(), name);
        cr_assert_gt(help_of(bin, help, sizeof help), 0, "%s --help printed nothing", bin);
        n++;
        bool takes_w = strstr(help, "-w, --workers") != NULL;
        cr_expect_eq(takes_w, strcmp(w, "-") != 0, "%s: registry w '%s', --help %s -w", name, w,
                     takes_w ? "lists" : "does not list");
        if (!strcmp(w, "cpus"))
            cr_expect(strstr(help, "the number of"), "%s: w 'cpus' but -w is not per CPU", name);
        bool has_lock = strstr(help, "--accept-lock") != NULL;
        cr_expect_eq(has_lock, strcmp(locks, "-") != 0, "%s: registry locks '%s', --help %s", name,
                     locks, has_lock ? "has --accept-lock" : "has none");
        if (strcmp(locks, "-"))
            values_in_help(name, "lock", locks, help);
        bool has_accept = strstr(help, "--accept ") || strstr(help, "--balance");
        cr_expect_eq(has_accept, strcmp(accept, "-") != 0, "%s: registry accept '%s'", name,
                     accept);
        if (strcmp(accept, "-"))
            values_in_help(name, "accept", accept, help);
        bool has_poller = strstr(help, "--poller") != NULL;
        cr_expect_eq(has_poller, strcmp(pollers, "-") != 0, "%s: registry pollers '%s'", name,
                     pollers);
        if (strcmp(pollers, "-"))
            values_in_help(name, "poller", pollers, help);
    }
    cr_expect_geq(n, 9, "only %d models in the registry", n);
}

/* A second make after a build does nothing: no compile, no link (objects are kept, and the
 * build record changes only with what built them). */
Test(docs, a_second_make_builds_nothing, .timeout = 120)
{
    char out[] = "/tmp/cb-make-XXXXXX";
    int fd = mkstemp(out);
    cr_assert_geq(fd, 0);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "make --no-print-directory all > %s 2>&1 && ! grep -E '(^| )(cc|gcc|clang|ar) ' %s",
             out, out);
    cr_expect_eq(system(cmd), 0, "make all after a build ran the compiler (see %s)", out);
    unlink(out);
}

/* A machine without a package the build needs: make names the package and how to install it
 * (here a header made up for the test stands for a missing one). */
Test(docs, make_names_a_missing_package, .timeout = 120)
{
    cr_expect_eq(
        system("out=$(make --no-print-directory all BUILD_HEADERS=cb-nosuch.h:libcb-nosuch-dev "
               "2>&1); [ $? -ne 0 ] && printf '%s' \"$out\" | grep -q 'missing packages: "
               "libcb-nosuch-dev' && printf '%s' \"$out\" | grep -q 'make check-deps'"),
        0, "make does not name a missing package");
}

/* bench/run's man page is made from its table of dimensions (bench/run --man): the committed
 * page is that output, it renders without warnings, and it names every option of the table. */
Test(docs, bench_run_page_is_the_table, .timeout = 60)
{
    cr_expect_eq(system("bench/run --man | cmp -s - man/bench-run.1"), 0,
                 "man/bench-run.1 is not what bench/run --man prints (bench/run --man > "
                 "man/bench-run.1)");
    cr_expect_eq(system("[ -z \"$(MANWIDTH=120 man --warnings -l man/bench-run.1 2>&1 "
                        ">/dev/null)\" ]"),
                 0, "man -l man/bench-run.1 warned");
    cr_expect_eq(system("text=$(MANWIDTH=200 man -l man/bench-run.1 | col -b); missing=''; "
                        "for o in $(bench/run --options | cut -f1); do "
                        "printf '%s' \"$text\" | grep -qF -- \"$o\" || missing=\"$missing $o\"; "
                        "done; [ -z \"$missing\" ] || { echo \"not in the page:$missing\" >&2; "
                        "exit 1; }"),
                 0, "an option of bench/run is not in man/bench-run.1");
}

/* bench/tune's page names every option of its --help and renders cleanly; its completion
 * offers the models first and the options after. */
Test(docs, bench_tune_page_and_completion, .timeout = 60)
{
    page_covers("bench/tune", "man/bench-tune.1");
    cr_expect_eq(system("bash -c '. completions/concurrency-bench.bash && "
                        "COMP_WORDS=(bench/tune pre) COMP_CWORD=1 && _cb_bench_tune && "
                        "[[ \" ${COMPREPLY[*]} \" == *\" prefork \"* ]] && "
                        "COMP_WORDS=(bench/tune prefork --sl) COMP_CWORD=2 && _cb_bench_tune && "
                        "[[ ${COMPREPLY[*]} == --slo ]]'"),
                 0, "bash completion of bench/tune");
}

/* bench/advise's page names every option of its --help and renders cleanly. */
Test(docs, bench_advise_page, .timeout = 60)
{
    page_covers("bench/advise", "man/bench-advise.1");
}

/* Where the models are listed outside the registry (servers/models), the list is the
 * registry's: man/srv.1's NAME line, bash completion (a checkout's and an installed one's),
 * the Makefile's ThreadSanitizer models (the threads column), and the suites, which name
 * models only through it (all, kind=KIND) or one at a time. */
Test(docs, model_lists_come_from_the_registry, .timeout = 120)
{
    cr_expect_eq(system("[ \"$(sed -n '/^\\.SH NAME/{n;p}' man/srv.1 | sed 's/\\\\-/-/g; "
                        "s/ - .*//' | tr -d ' ' | tr ',' '\\n' | sed 's/-srv$//' | paste -sd "
                        "' ')\" = \"$(bench/models names | paste -sd ' ')\" ]"),
                 0, "man/srv.1's NAME line is not the registry's models");
    cr_expect_eq(system("bash -c '. completions/concurrency-bench.bash && "
                        "for m in $(bench/models names); do complete -p $m-srv >/dev/null || "
                        "exit 1; done'"),
                 0, "a model of the registry has no completion");
    cr_expect_eq(system("[ \"$(make -s -n test 2>/dev/null | grep -o 'SRV_MODELS=\"[^\"]*\"' | "
                        "head -n1)\" = \"SRV_MODELS=\\\"$(bench/models threaded | paste -sd ' "
                        "')\\\"\" ]"),
                 0, "TSAN_MODELS is not the registry's threads column");
    /* A suite names the models its experiment is about, or a selector: never every model of
     * a kind (of two or more) spelled out, which the next model of that kind would miss. */
    cr_expect_eq(system("for f in bench/suites/*; do "
                        "w=\" $(sed -n 's/^MODELS=//p' $f | tr -d '\"') \"; "
                        "for k in one spawn pool event; do "
                        "ms=$(bench/models of $k); set -- $ms; [ $# -ge 2 ] || continue; all=1; "
                        "for m in $ms; do case \"$w\" in *\" $m \"*) ;; *) all=0 ;; esac; "
                        "done; [ $all = 0 ] || { echo \"$f names every $k model by hand\" >&2; "
                        "exit 1; }; done; done"),
                 0, "a suite lists a kind's models by hand (use all or kind=KIND)");
    char dest[128], cmd[1024];
    snprintf(dest, sizeof dest, "/tmp/cb-comp-%ld", (long)getpid());
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && make -s install DESTDIR=%s PREFIX=/opt/cb >/dev/null 2>&1 && "
             "cd %s/opt/cb/share/bash-completion/completions && bash -c '. ./loadgen && "
             "for m in $(cd %s && bench/models names); do complete -p $m-srv >/dev/null || "
             "exit 1; done'",
             dest, dest, dest, getenv("PWD") ? getenv("PWD") : ".");
    cr_expect_eq(system(cmd), 0, "the installed completion lacks a model: %s", cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dest);
    system(cmd);
}

/* Every figure the README, docs/ and `make help` quote that a tool knows (a suite's cells and
 * estimated time, a make target's duration, the number of models, an option's default) is
 * the tool's: tests/docs-figures.sh holds each against the dry run, the registry, bench/run's
 * table of dimensions or the --help that says it, and names each that is not. */
Test(docs, quoted_figures_match_their_tools, .timeout = 300)
{
    cr_expect_eq(system("tests/docs-figures.sh"), 0, "tests/docs-figures.sh: see the lines above");
}

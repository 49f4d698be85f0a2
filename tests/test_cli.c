#include <criterion/criterion.h>
#include <string.h>

#include "cli.h"

#define ARGV(...)                                                                                  \
    (char *[])                                                                                     \
    {                                                                                              \
        "test-srv", __VA_ARGS__, NULL                                                              \
    }
#define ARGC(...) ((int)(sizeof((char *[]){"test-srv", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(caps, o, ...)                                                                        \
    cli_parse_server(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), caps, "a test model", o, err, sizeof err)

static char err[512];
static const unsigned POOL_P = CAP_WORKERS | CAP_LOCK_MUTEX | CAP_LOCK_FCNTL;

Test(cli, defaults, .timeout = 60)
{
    struct srv_opts o;
    char *argv[] = {"x", NULL};
    cr_assert_eq(cli_parse_server(1, argv, POOL_P, "a test model", &o, err, sizeof err), CLI_OK,
                 "%s", err);
    cr_expect_str_eq(o.port, "12345");
    cr_expect_str_eq(o.host, "127.0.0.1");
    cr_expect_eq(o.backlog, 511);
    cr_expect_eq(o.workers, 8);
    cr_expect_eq(o.max_work, 100000000);
    cr_expect_eq(o.max_bytes, 1073741824);
    cr_expect_eq(o.timeout_ms, 60000);
    cr_expect_eq(o.lock, LOCK_NONE);
}

Test(cli, every_option, .timeout = 60)
{
    struct srv_opts o;
    int r = PARSE(POOL_P, &o, "-H", "::1", "-p", "0", "-b", "32", "-w", "4", "--accept-lock",
                  "fcntl", "--max-work", "1000", "--max-bytes", "2000", "--timeout", "5", "--grace",
                  "3", "-P", "/tmp/p", "--stats", "/tmp/s");
    cr_assert_eq(r, CLI_OK, "%s", err);
    cr_expect_str_eq(o.host, "::1");
    cr_expect_str_eq(o.port, "0");
    cr_expect_eq(o.backlog, 32);
    cr_expect_eq(o.workers, 4);
    cr_expect_eq(o.lock, LOCK_FCNTL);
    cr_expect_eq(o.max_work, 1000);
    cr_expect_eq(o.max_bytes, 2000);
    cr_expect_eq(o.timeout_ms, 5000);
    cr_expect_eq(o.grace_ms, 3000);
    cr_expect_str_eq(o.pidfile, "/tmp/p");
    cr_expect_str_eq(o.stats_file, "/tmp/s");
}

Test(cli, options_a_model_cannot_use_are_refused, .timeout = 60)
{
    struct srv_opts o;
    cr_expect_eq(PARSE(0, &o, "-w", "4"), CLI_ERR);
    cr_expect(strstr(err, "no worker pool"), "%s", err);
    cr_expect_eq(PARSE(0, &o, "--accept-lock", "mutex"), CLI_ERR);
    cr_expect_eq(PARSE(0, &o, "--max-clients", "4"), CLI_ERR);
    cr_expect_eq(PARSE(CAP_MAX_CLIENTS, &o, "-w", "4"), CLI_ERR);
    cr_expect_eq(PARSE(CAP_MAX_CLIENTS, &o, "--max-clients", "4"), CLI_OK, "%s", err);
    cr_expect_eq(PARSE(CAP_WORKERS | CAP_LOCK_MUTEX, &o, "--accept-lock", "fcntl"), CLI_ERR);
    cr_expect(strstr(err, "threads use mutex"), "%s", err);
    cr_expect_eq(PARSE(CAP_WORKERS | CAP_LOCK_MUTEX, &o, "--accept-lock", "mutex"), CLI_OK);
    cr_expect_eq(PARSE(POOL_P, &o, "--max-clients", "3"), CLI_ERR);
}

Test(cli, bad_values, .timeout = 60)
{
    struct srv_opts o;
    cr_expect_eq(PARSE(POOL_P, &o, "-p", "65536"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "-p", "12x"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "-b", "0"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "-w", "-1"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "-w", "0"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "--accept-lock", "spin"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "--timeout", "99999999999999999999"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "-U", "/tmp/s", "-p", "1"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "--user", "nobody"), CLI_ERR, "--user without -d");
    cr_expect_eq(PARSE(POOL_P, &o, "--bogus"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "stray"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "-p"), CLI_ERR);
    cr_expect(strstr(err, "needs a value"), "%s", err);
}

/* The servers take the same durations as loadgen: a bare number is seconds. */
Test(cli, timeout_and_grace_take_durations, .timeout = 60)
{
    struct srv_opts o;
    cr_assert_eq(PARSE(POOL_P, &o, "--timeout", "500ms", "--grace", "1.5s"), CLI_OK, "%s", err);
    cr_expect_eq(o.timeout_ms, 500, "timeout %d ms", o.timeout_ms);
    cr_expect_eq(o.grace_ms, 1500, "grace %d ms", o.grace_ms);
    cr_assert_eq(PARSE(POOL_P, &o, "--timeout", "2m", "--grace", "0"), CLI_OK, "%s", err);
    cr_expect_eq(o.timeout_ms, 120000);
    cr_expect_eq(o.grace_ms, 0);
    cr_expect_eq(PARSE(POOL_P, &o, "--timeout", "5x"), CLI_ERR);
    cr_expect(strstr(err, "500ms"), "the message shows the form: %s", err);
    cr_expect_eq(PARSE(POOL_P, &o, "--grace", "2h"), CLI_ERR, "above the 3600 s cap");
    cr_expect_eq(PARSE(POOL_P, &o, "--timeout", "10us"), CLI_ERR, "below a millisecond");
}

Test(cli, help_and_version, .timeout = 60)
{
    struct srv_opts o;
    cr_expect_eq(PARSE(0, &o, "-h"), CLI_HELP);
    cr_expect_eq(PARSE(0, &o, "--version"), CLI_VERS);
}

Test(cli, numbers_and_durations, .timeout = 60)
{
    uint64_t v;
    cr_expect_eq(cli_u64("42", 0, 100, &v), 0);
    cr_expect_eq(v, 42);
    cr_expect_eq(cli_u64("101", 0, 100, &v), -1);
    cr_expect_eq(cli_u64("", 0, 100, &v), -1);
    cr_expect_eq(cli_u64(" 1", 0, 100, &v), -1);
    cr_expect_eq(cli_u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
    cr_expect_eq(cli_duration_us("5", &v), 0);
    cr_expect_eq(v, 5000000);
    cr_expect_eq(cli_duration_us("1.5s", &v), 0);
    cr_expect_eq(v, 1500000);
    cr_expect_eq(cli_duration_us("250ms", &v), 0);
    cr_expect_eq(v, 250000);
    cr_expect_eq(cli_duration_us("2m", &v), 0);
    cr_expect_eq(v, 120000000);
    cr_expect_eq(cli_duration_us("10us", &v), 0);
    cr_expect_eq(v, 10);
    cr_expect_eq(cli_duration_us("5 s", &v), -1);
    cr_expect_eq(cli_duration_us("-1", &v), -1);
    cr_expect_eq(cli_duration_us("1d", &v), -1);
}

Test(cli, spare_options_make_a_dynamic_pool, .timeout = 60)
{
    struct srv_opts o;
    const unsigned caps = POOL_P | CAP_SPARE;
    cr_assert_eq(PARSE(caps, &o, "-w", "2"), CLI_OK, "%s", err);
    cr_expect_not(o.dynamic, "-w alone: a fixed pool");
    cr_assert_eq(PARSE(caps, &o, "--max-spare", "7"), CLI_OK, "%s", err);
    cr_expect(o.dynamic);
    cr_expect_eq(o.min_spare, 5, "Apache's default");
    cr_expect_eq(o.max_spare, 7);
    cr_expect_eq(o.max_workers, 256);
    cr_assert_eq(PARSE(caps, &o, "--min-spare", "1", "--max-spare", "2", "--max-workers", "9"),
                 CLI_OK, "%s", err);
    cr_expect(o.min_spare == 1 && o.max_spare == 2 && o.max_workers == 9);
    cr_expect_eq(PARSE(caps, &o, "--min-spare", "4", "--max-spare", "4"), CLI_ERR);
    cr_expect(strstr(err, "below --max-spare"), "%s", err);
    cr_expect_eq(PARSE(caps, &o, "-w", "20", "--max-workers", "10"), CLI_ERR);
    cr_expect_eq(PARSE(caps, &o, "--max-workers", "0"), CLI_ERR);
    cr_expect_eq(PARSE(POOL_P, &o, "--min-spare", "1"), CLI_ERR, "a model without CAP_SPARE");
    cr_expect(strstr(err, "no pool to size"), "%s", err);
}

Test(cli, stats_interval_takes_a_duration, .timeout = 60)
{
    struct srv_opts o;
    cr_assert_eq(PARSE(0, &o, "--stats-interval", "250ms"), CLI_OK, "%s", err);
    cr_expect_eq(o.stats_interval_ms, 250);
    cr_expect_eq(PARSE(0, &o, "--stats-interval", "soon"), CLI_ERR);
}

/* The help and the parser come from one table: for every combination of capabilities, an
 * option is refused as one the model cannot use exactly when its help does not list it. */
Test(cli, help_lists_what_the_parser_takes, .timeout = 60)
{
    static char names[64][32];
    size_t nnames = 0;
    /* the first pass learns every option's name, the second checks each model */
    for (unsigned pass = 0, caps = 0; pass < 2; caps = (caps + 1) % (1u << 10), pass += !caps) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        cr_assert(f);
        cli_usage_server(f, "test-srv", caps);
        fclose(f);
        char listed[64][32];
        size_t nlisted = 0;
        for (char *save, *line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            const char *dd = strstr(line, "--");
            if (strncmp(line, "  -", 3) && strncmp(line, "      --", 8))
                continue;
            cr_assert(dd, "a help line without a long name: %s", line);
            char name[32];
            cr_assert_eq(sscanf(dd + 2, "%31[a-z-]", name), 1, "%s", line);
            snprintf(listed[nlisted++], sizeof *listed, "%s", name);
            bool known = false;
            for (size_t i = 0; i < nnames; i++)
                known |= !strcmp(names[i], name);
            if (!known)
                snprintf(names[nnames++], sizeof *names, "%s", name);
        }
        free(text);
        cr_assert_gt(nlisted, 10, "caps %#x: %zu options listed", caps, nlisted);
        for (size_t i = 0; pass == 1 && i < nnames; i++) {
            bool is_listed = false;
            for (size_t j = 0; j < nlisted; j++)
                is_listed |= !strcmp(listed[j], names[i]);
            char opt[40];
            snprintf(opt, sizeof opt, "--%s", names[i]);
            struct srv_opts o;
            err[0] = '\0';
            PARSE(caps, &o, opt, "1");
            bool refused = strstr(err, "test-srv (a test model)") != NULL;
            cr_expect_neq(refused, is_listed, "caps %#x: %s is %s but %s", caps, opt,
                          is_listed ? "listed" : "not listed",
                          refused ? "refused as the model's" : "not refused");
        }
    }
    cr_expect_geq(nnames, 26, "only %zu options in all", nnames);
}

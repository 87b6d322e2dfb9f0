/* cli_parse (cli_args.h) run in one process more than once: each parse starts afresh
 * (getopt's state is reset), options come in order, and what getopt_long alone would
 * let through (abbreviations, permuted words) is refused. The messages themselves are
 * tested from tests/vectors/cli_options.txt by tests/cli/options.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli_args.h"

typedef struct opts {
    long threads;
    int json, calls;
    char name[32]; /* the name take() was given last (valid during the call only) */
} opts;

enum { OPT_JSON = 256, OPT_THREADS_MAX };

static const struct option longs[] = {
    {"threads", required_argument, NULL, 't'},
    {"threads-max", required_argument, NULL, OPT_THREADS_MAX},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int take(void *p, int key, const char *arg, const char *name)
{
    opts *o = p;
    o->calls++;
    snprintf(o->name, sizeof o->name, "%s", name);
    if (key == OPT_JSON)
        o->json = 1;
    else if (key == 't')
        return cm_arg_int(name, arg, 1, 256, &o->threads) ? 2 : 0;
    return 0;
}

static void quiet(FILE *out)
{
    (void)out;
}

static const cli_spec spec = {"test", "ht:", longs, quiet, take};

/* Parses the words after "cmd" into a fresh opts. */
static int parse(opts *o, int n, ...)
{
    char *argv[16] = {"cmd"};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    memset(o, 0, sizeof *o);
    return cli_parse(&spec, n + 1, argv, o);
}

static void test_every_form_of_a_value(void **state)
{
    (void)state;
    opts o;
    assert_int_equal(parse(&o, 2, "--threads", "3"), 0);
    assert_int_equal(o.threads, 3);
    assert_string_equal(o.name, "--threads");
    assert_int_equal(parse(&o, 1, "--threads=4"), 0);
    assert_int_equal(o.threads, 4);
    assert_int_equal(parse(&o, 2, "-t", "5"), 0);
    assert_int_equal(o.threads, 5);
    assert_int_equal(parse(&o, 1, "-t6"), 0);
    assert_int_equal(o.threads, 6);
    assert_string_equal(o.name, "--threads"); /* messages name the long form */
    assert_int_equal(parse(&o, 3, "--threads", "1", "--threads=7"), 0);
    assert_int_equal(o.threads, 7);
    assert_int_equal(o.calls, 2);
}

static void test_parses_again_after_an_error(void **state)
{
    (void)state;
    opts o;
    /* An error mid-way leaves getopt inside argv; the next parse must not start there. */
    assert_int_equal(parse(&o, 3, "--json", "-x", "--json"), 2);
    assert_int_equal(parse(&o, 2, "-t", "2"), 0);
    assert_int_equal(o.threads, 2);
    assert_int_equal(parse(&o, 1, "-t"), 2); /* value missing */
    assert_int_equal(parse(&o, 1, "--json"), 0);
    assert_int_equal(o.json, 1);
    assert_int_equal(o.calls, 1);
}

static void test_refuses_what_getopt_would_guess(void **state)
{
    (void)state;
    opts o;
    assert_int_equal(parse(&o, 2, "--thr", "2"), 2);       /* a prefix of two options */
    assert_int_equal(parse(&o, 2, "--threads-m", "2"), 2); /* a prefix of one */
    assert_int_equal(parse(&o, 1, "--js"), 2);
    assert_int_equal(parse(&o, 1, "--json=1"), 2); /* a flag takes no value */
    /* A stray word is refused where it stands: nothing after it is taken. */
    assert_int_equal(parse(&o, 3, "--json", "stray", "--threads=2"), 2);
    assert_int_equal(o.calls, 1);
    assert_int_equal(parse(&o, 1, "--"), 2);
    assert_int_equal(parse(&o, 1, "-h"), 1);
    assert_int_equal(parse(&o, 2, "--help", "--bogus"), 1); /* help first wins */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_form_of_a_value),
        cmocka_unit_test(test_parses_again_after_an_error),
        cmocka_unit_test(test_refuses_what_getopt_would_guess),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* consentminer — `--config FILE` for every subcommand, `--name=value` for audit (cli_config.h). */
#include "cli_config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct args {
    char **v;
    int n, cap;
} args;

static int push(args *a, const char *text, size_t len)
{
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, text, len);
    copy[len] = 0;
    a->v[a->n++] = copy;
    a->v[a->n] = NULL;
    return 0;
}

static int push_str(args *a, const char *text)
{
    return push(a, text, strlen(text));
}

/* A key must look like a long option: lower-case letters, digits and dashes. */
static int option_name_ok(const char *key)
{
    if (!*key || *key == '-')
        return 0;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

/* One value of `key`: appends "--key" and its text, or just "--key" for true. */
static int push_value(args *a, const char *command, const char *file, const char *key, json_t *v,
                      int in_list)
{
    char opt[128], num[64];
    snprintf(opt, sizeof opt, "--%s", key);
    switch (json_typeof(v)) {
    case JSON_STRING:
        return push_str(a, opt) || push(a, json_string_value(v), json_string_length(v)) ? -2 : 0;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return push_str(a, opt) || push_str(a, num) ? -2 : 0;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        return push_str(a, opt) || push_str(a, num) ? -2 : 0;
    case JSON_TRUE:
        if (!in_list)
            return push_str(a, opt) ? -2 : 0;
        break;
    case JSON_FALSE:
    case JSON_NULL:
        if (!in_list)
            return 0;
        break;
    default:
        break;
    }
    fprintf(stderr,
            "consentminer %s: --config %s: \"%s\" is %s; expected a string, a number, true, "
            "false or a list of strings and numbers\n",
            command, file, key,
            json_is_object(v)                     ? "an object"
            : json_is_array(v)                    ? "a list inside a list"
            : json_is_true(v) || json_is_false(v) ? "a boolean inside a list"
                                                  : "null inside a list");
    return -1;
}

static int load_file(args *a, const char *command, const char *file)
{
    json_error_t jerr;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        if (jerr.line < 0)
            fprintf(stderr, "consentminer %s: --config %s: %s\n", command, file, jerr.text);
        else
            fprintf(stderr, "consentminer %s: --config %s: line %d, column %d: %s\n", command, file,
                    jerr.line, jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        fprintf(stderr,
                "consentminer %s: --config %s: expected one JSON object of options, such as "
                "{\"threads\": 2}\n",
                command, file);
        json_decref(root);
        return -1;
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, key, v)
    {
        if (!option_name_ok(key) || !strcmp(key, "config") || strlen(key) > 100) {
            fprintf(stderr,
                    "consentminer %s: --config %s: \"%.100s\" is not an option name; expected "
                    "a long option without its dashes, such as \"threads\"%s\n",
                    command, file, key,
                    !strcmp(key, "config") ? " (a config file cannot name another)" : "");
            rc = -1;
            break;
        }
        if (json_is_array(v)) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item)
            {
                if ((rc = push_value(a, command, file, key, item, 1)) != 0)
                    break;
            }
        } else {
            rc = push_value(a, command, file, key, v, 0);
        }
        if (rc != 0)
            break;
    }
    json_decref(root);
    if (rc == -2)
        fprintf(stderr, "consentminer %s: out of memory\n", command);
    return rc ? -1 : 0;
}

void cli_expanded_free(int argc, char **argv, char *source)
{
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    free(source);
}

int cli_expand(const char *command, int split, int argc, char **argv, int *out_argc,
               char ***out_argv, char **out_source)
{
    args a = {0};
    char *source = NULL;
    int ok = argc > 0 && push_str(&a, argv[0]) == 0;
    int options = 1; /* after "--", everything is an operand */
    for (int i = 1; ok && i < argc; i++) {
        const char *s = argv[i];
        const char *eq = options && !strncmp(s, "--", 2) && s[2] ? strchr(s, '=') : NULL;
        if (options && !strcmp(s, "--")) {
            options = 0;
            ok = push_str(&a, s) == 0;
        } else if (options &&
                   (!strcmp(s, "--config") || (eq && eq - s == 8 && !strncmp(s, "--config", 8)))) {
            const char *file = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (file == NULL || !*file) {
                fprintf(stderr, "consentminer %s: --config needs a file name\n", command);
                cli_expanded_free(a.n, a.v, source);
                return -1;
            }
            if (source != NULL) {
                fprintf(stderr, "consentminer %s: --config given twice (%s and %s); give one\n",
                        command, source, file);
                cli_expanded_free(a.n, a.v, source);
                return -1;
            }
            source = strdup(file);
            if (source == NULL || load_file(&a, command, file) != 0) {
                cli_expanded_free(a.n, a.v, source);
                return -1;
            }
        } else if (eq && split) {
            ok = push(&a, s, (size_t)(eq - s)) == 0 && push_str(&a, eq + 1) == 0;
        } else {
            ok = push_str(&a, s) == 0;
        }
    }
    if (!ok) {
        fprintf(stderr, "consentminer %s: out of memory\n", command);
        cli_expanded_free(a.n, a.v, source);
        return -1;
    }
    *out_argc = a.n;
    *out_argv = a.v;
    *out_source = source;
    return 0;
}

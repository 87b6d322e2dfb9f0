/* Reading the files in tests/vectors/: one case a line, fields separated by spaces or tabs, blank
 * lines and lines starting with '#' skipped. A field may be written compactly:
 *   "-"       absent (vec_expand returns NULL)
 *   "~"       the empty string
 *   "ab*40"   "ab" repeated 40 times; parts joined with "+" are concatenated
 *   "'text"   text taken literally (for values that contain '+' or '*')
 * Also a hex decoder of the tests' own, so inputs never depend on the code under test.
 */
#ifndef CM_TESTS_VECTOR_LINES_H
#define CM_TESTS_VECTOR_LINES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define VEC_MAX_FIELDS 16

typedef struct vec_file {
    FILE *fp;
    const char *name;
    int line_no;
    char line[16384];
    char *field[VEC_MAX_FIELDS];
    int nfields;
} vec_file;

static inline void vec_open(vec_file *v, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CM_VECTORS_DIR, name);
    memset(v, 0, sizeof *v);
    v->name = name;
    v->fp = fopen(path, "r");
    if (v->fp == NULL)
        fail_msg("cannot open %s", path);
}

/* The next case: 1 with v->field[0..nfields) set, 0 at the end of the file. */
static inline int vec_next(vec_file *v)
{
    while (fgets(v->line, sizeof v->line, v->fp) != NULL) {
        v->line_no++;
        size_t len = strlen(v->line);
        if (len == sizeof v->line - 1 && v->line[len - 1] != '\n')
            fail_msg("%s:%d: line too long", v->name, v->line_no);
        v->nfields = 0;
        char *p = v->line;
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
            if (*p == '\0' || (v->nfields == 0 && *p == '#'))
                break;
            if (v->nfields == VEC_MAX_FIELDS)
                fail_msg("%s:%d: too many fields", v->name, v->line_no);
            v->field[v->nfields++] = p;
            while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                p++;
            if (*p != '\0')
                *p++ = '\0';
        }
        if (v->nfields > 0)
            return 1;
    }
    fclose(v->fp);
    v->fp = NULL;
    return 0;
}

static inline void vec_need(const vec_file *v, int n)
{
    if (v->nfields != n)
        fail_msg("%s:%d: %d fields, expected %d", v->name, v->line_no, v->nfields, n);
}

/* The expanded value of a field (malloc'd; free it), or NULL for "-". */
static inline char *vec_expand(const char *tok)
{
    if (strcmp(tok, "-") == 0)
        return NULL;
    if (strcmp(tok, "~") == 0)
        return calloc(1, 1);
    if (tok[0] == '\'') {
        char *s = malloc(strlen(tok));
        strcpy(s, tok + 1);
        return s;
    }
    size_t cap = 64, len = 0;
    char *out = malloc(cap);
    const char *p = tok;
    while (*p != '\0') {
        const char *end = strchr(p, '+');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        const char *star = memchr(p, '*', plen);
        size_t unit = star ? (size_t)(star - p) : plen;
        unsigned long reps = star ? strtoul(star + 1, NULL, 10) : 1;
        while (len + unit * reps + 1 > cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        for (unsigned long r = 0; r < reps; r++) {
            memcpy(out + len, p, unit);
            len += unit;
        }
        p += plen;
        if (*p == '+')
            p++;
    }
    out[len] = '\0';
    return out;
}

static inline int vec_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    fail_msg("test vector has a non-hex character '%c'", c);
    return -1;
}

/* Decodes test data (which must be valid hex); returns the byte count. */
static inline size_t vec_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        fail_msg("test vector hex of %zu characters does not fit %zu bytes", n, cap);
    for (size_t i = 0; i < n / 2; i++)
        out[i] = (uint8_t)(vec_hexval(hex[2 * i]) << 4 | vec_hexval(hex[2 * i + 1]));
    return n / 2;
}

static inline uint64_t vec_u64(const vec_file *v, const char *s)
{
    char *end = NULL;
    unsigned long long x = strtoull(s, &end, 10);
    if (end == s || *end != '\0')
        fail_msg("%s:%d: \"%s\" is not a decimal number", v->name, v->line_no, s);
    return (uint64_t)x;
}

#endif

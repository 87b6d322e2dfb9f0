/* consentminer — WebAssembly binary writer (see wasm_emit.h). */
#include "wasm_emit.h"

#include <stdlib.h>
#include <string.h>

void cm_wbuf_init(cm_wbuf *b) { memset(b, 0, sizeof *b); }

void cm_wbuf_free(cm_wbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void cm_wbuf_reset(cm_wbuf *b)
{
    b->len = 0;
    b->oom = 0;
}

static int reserve(cm_wbuf *b, size_t n)
{
    if (b->oom)
        return 0;
    if (b->len + n <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void cm_w_u8(cm_wbuf *b, uint8_t v)
{
    if (reserve(b, 1))
        b->data[b->len++] = v;
}

void cm_w_bytes(cm_wbuf *b, const void *p, size_t n)
{
    if (n && reserve(b, n)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

void cm_w_u32(cm_wbuf *b, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7F;
        v >>= 7;
        cm_w_u8(b, byte | (v ? 0x80 : 0));
    } while (v);
}

void cm_w_s64(cm_wbuf *b, int64_t v)
{
    for (;;) {
        uint8_t byte = (uint8_t)(v & 0x7F);
        v >>= 7; /* arithmetic: every compiler we build with does so for int64_t */
        int done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        cm_w_u8(b, byte | (done ? 0 : 0x80));
        if (done)
            return;
    }
}

void cm_w_s32(cm_wbuf *b, int32_t v) { cm_w_s64(b, v); }

void cm_w_name(cm_wbuf *b, const char *s)
{
    size_t n = strlen(s);
    cm_w_u32(b, (uint32_t)n);
    cm_w_bytes(b, s, n);
}

void cm_w_i32_const(cm_wbuf *b, int32_t v)
{
    cm_w_u8(b, CM_OP_I32_CONST);
    cm_w_s32(b, v);
}

void cm_w_i64_const(cm_wbuf *b, int64_t v)
{
    cm_w_u8(b, CM_OP_I64_CONST);
    cm_w_s64(b, v);
}

static void le64(cm_wbuf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    cm_w_bytes(b, x, 8);
}

void cm_w_f64_const(cm_wbuf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    cm_w_u8(b, CM_OP_F64_CONST);
    le64(b, bits);
}

void cm_w_v128_const(cm_wbuf *b, uint64_t lo, uint64_t hi)
{
    cm_w_simd(b, CM_SIMD_V128_CONST);
    le64(b, lo);
    le64(b, hi);
}

void cm_w_local(cm_wbuf *b, uint8_t op, uint32_t idx)
{
    cm_w_u8(b, op);
    cm_w_u32(b, idx);
}

void cm_w_mem(cm_wbuf *b, uint8_t op, uint32_t align, uint32_t offset)
{
    cm_w_u8(b, op);
    cm_w_u32(b, align);
    cm_w_u32(b, offset);
}

void cm_w_simd(cm_wbuf *b, uint32_t op)
{
    cm_w_u8(b, CM_OP_SIMD);
    cm_w_u32(b, op);
}

void cm_w_simd_lane(cm_wbuf *b, uint32_t op, uint8_t lane)
{
    cm_w_simd(b, op);
    cm_w_u8(b, lane);
}

void cm_wfunc_begin(cm_wbuf *body, const cm_wlocals *runs, uint32_t nruns)
{
    cm_w_u32(body, nruns);
    for (uint32_t i = 0; i < nruns; i++) {
        cm_w_u32(body, runs[i].count);
        cm_w_u8(body, runs[i].type);
    }
}

/* A section: id, then its contents prefixed by their size. */
static void section(cm_wbuf *out, uint8_t id, const cm_wbuf *content)
{
    cm_w_u8(out, id);
    cm_w_u32(out, (uint32_t)content->len);
    cm_w_bytes(out, content->data, content->len);
    if (content->oom)
        out->oom = 1;
}

int cm_wmodule_write(const cm_wmodule *m, cm_wbuf *out)
{
    static const uint8_t header[8] = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};
    cm_wbuf s;
    cm_wbuf_init(&s);
    cm_w_bytes(out, header, sizeof header);

    /* 1: types */
    cm_w_u32(&s, m->ntypes);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const cm_wtype *t = &m->types[i];
        cm_w_u8(&s, 0x60);
        cm_w_u32(&s, t->nparams);
        cm_w_bytes(&s, t->params, t->nparams);
        cm_w_u32(&s, t->nresults);
        cm_w_bytes(&s, t->results, t->nresults);
    }
    section(out, 1, &s);

    /* 2: imports, env.memory first */
    cm_wbuf_reset(&s);
    cm_w_u32(&s, m->nimports + 1);
    cm_w_name(&s, "env");
    cm_w_name(&s, "memory");
    cm_w_u8(&s, 0x02); /* memory */
    if (m->shared_memory) {
        cm_w_u8(&s, 0x03); /* limits: min, max, shared */
        cm_w_u32(&s, 0);
        cm_w_u32(&s, 65536);
    } else {
        cm_w_u8(&s, 0x00); /* limits: min only */
        cm_w_u32(&s, 0);
    }
    for (uint32_t i = 0; i < m->nimports; i++) {
        cm_w_name(&s, "env");
        cm_w_name(&s, m->imports[i].name);
        cm_w_u8(&s, 0x00); /* function */
        cm_w_u32(&s, m->imports[i].type);
    }
    section(out, 2, &s);

    /* 3: functions */
    cm_wbuf_reset(&s);
    cm_w_u32(&s, m->nfuncs);
    for (uint32_t i = 0; i < m->nfuncs; i++)
        cm_w_u32(&s, m->funcs[i].type);
    section(out, 3, &s);

    /* 7: exports */
    cm_wbuf_reset(&s);
    uint32_t nexp = 0;
    for (uint32_t i = 0; i < m->nfuncs; i++)
        nexp += m->funcs[i].export_name != NULL;
    cm_w_u32(&s, nexp);
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        if (!m->funcs[i].export_name)
            continue;
        cm_w_name(&s, m->funcs[i].export_name);
        cm_w_u8(&s, 0x00);
        cm_w_u32(&s, m->nimports + i);
    }
    section(out, 7, &s);

    /* 10: code */
    cm_wbuf_reset(&s);
    cm_w_u32(&s, m->nfuncs);
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        const cm_wbuf *body = m->funcs[i].body;
        cm_w_u32(&s, (uint32_t)body->len);
        cm_w_bytes(&s, body->data, body->len);
        if (body->oom)
            s.oom = 1;
    }
    section(out, 10, &s);

    cm_wbuf_free(&s);
    return out->oom ? -1 : 0;
}

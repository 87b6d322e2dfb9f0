/* consentminer — mbedTLS client session over caller-driven buffers. */
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

typedef struct byte_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} byte_buf;

struct cm_tls {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    int pinned;
    uint8_t pin[32];
    char host[256];
    char ca_file[256];
    byte_buf in; /* ciphertext from the peer, not yet consumed by mbedTLS */
    size_t in_off;
    byte_buf out; /* ciphertext for the peer */
    char fingerprint[65];
    char error[CM_TLS_ERROR_MAX];
};

static int buf_append(byte_buf *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (p == NULL)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

static void set_error(cm_tls *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->error, sizeof t->error, fmt, ap);
    va_end(ap);
}

static void mbed_reason(int rc, char *out, size_t len)
{
    mbedtls_strerror(rc, out, len);
}

int cm_tls_parse_fingerprint(const char *text, uint8_t out[32])
{
    size_t n = 0;
    int half = -1;
    for (const char *p = text; p && *p; p++) {
        int v;
        if (*p == ':' && half < 0)
            continue;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            return -1;
        if (half < 0) {
            half = v;
        } else {
            if (n == 32)
                return -1;
            out[n++] = (uint8_t)(half << 4 | v);
            half = -1;
        }
    }
    return n == 32 && half < 0 ? 0 : -1;
}

static int bio_send(void *ctx, const unsigned char *data, size_t len)
{
    cm_tls *t = ctx;
    if (buf_append(&t->out, data, len) != 0)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    return (int)len;
}

static int bio_recv(void *ctx, unsigned char *data, size_t len)
{
    cm_tls *t = ctx;
    size_t avail = t->in.len - t->in_off;
    if (avail == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (len > avail)
        len = avail;
    memcpy(data, t->in.data + t->in_off, len);
    t->in_off += len;
    if (t->in_off == t->in.len)
        t->in.len = t->in_off = 0;
    return (int)len;
}

cm_tls *cm_tls_client_new(const char *host, const char *ca_file, const uint8_t *pin, char *err,
                          size_t err_len)
{
    cm_tls *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, err_len, "out of memory for a TLS session");
        return NULL;
    }
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    snprintf(t->host, sizeof t->host, "%s", host);
    snprintf(t->ca_file, sizeof t->ca_file, "%s", ca_file ? ca_file : CM_TLS_DEFAULT_CA_FILE);
    char why[160];
    int rc;
    static const char pers[] = "consentminer tls";
    if ((rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                                    (const unsigned char *)pers, sizeof pers - 1)) != 0) {
        mbed_reason(rc, why, sizeof why);
        snprintf(err, err_len, "TLS random generator: %s", why);
        goto fail;
    }
    if ((rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        mbed_reason(rc, why, sizeof why);
        snprintf(err, err_len, "TLS configuration: %s", why);
        goto fail;
    }
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    /* TLS 1.2 at least: older versions are broken and no pool needs them. */
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    if (pin != NULL) {
        /* The pin is the trust anchor (self-signed pool certificates are common); the
         * chain result is ignored, the fingerprint is checked after the handshake. */
        t->pinned = 1;
        memcpy(t->pin, pin, 32);
        mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    } else {
        rc = mbedtls_x509_crt_parse_file(&t->ca, t->ca_file);
        if (rc < 0) {
            mbed_reason(rc, why, sizeof why);
            snprintf(err, err_len,
                     "cannot load the CA store %s (%s); give --tls-fingerprint "
                     "to trust one certificate instead",
                     t->ca_file, why);
            goto fail;
        }
        mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
        mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    }
    if ((rc = mbedtls_ssl_setup(&t->ssl, &t->conf)) != 0 ||
        (rc = mbedtls_ssl_set_hostname(&t->ssl, t->host)) != 0) {
        mbed_reason(rc, why, sizeof why);
        snprintf(err, err_len, "TLS session setup: %s", why);
        goto fail;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    return t;
fail:
    cm_tls_free(t);
    return NULL;
}

void cm_tls_free(cm_tls *t)
{
    if (t == NULL)
        return;
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    free(t->in.data);
    free(t->out.data);
    free(t);
}

int cm_tls_feed(cm_tls *t, const void *data, size_t len)
{
    if (t->in_off > 0 && t->in_off == t->in.len)
        t->in.len = t->in_off = 0;
    if (t->in_off > 0 && t->in.len + len > t->in.cap) {
        memmove(t->in.data, t->in.data + t->in_off, t->in.len - t->in_off);
        t->in.len -= t->in_off;
        t->in_off = 0;
    }
    return buf_append(&t->in, data, len);
}

static int check_peer(cm_tls *t)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
    if (peer == NULL) {
        set_error(t, "TLS server %s sent no certificate", t->host);
        return -1;
    }
    uint8_t digest[32];
    mbedtls_sha256_ret(peer->raw.p, peer->raw.len, digest, 0);
    for (int i = 0; i < 32; i++)
        snprintf(t->fingerprint + 2 * i, 3, "%02x", digest[i]);
    if (t->pinned && memcmp(digest, t->pin, 32) != 0) {
        char want[65];
        for (int i = 0; i < 32; i++)
            snprintf(want + 2 * i, 3, "%02x", t->pin[i]);
        set_error(t,
                  "TLS certificate of %s does not match the pinned fingerprint "
                  "(pinned %s, server sent %s)",
                  t->host, want, t->fingerprint);
        return -1;
    }
    return 0;
}

int cm_tls_handshake(cm_tls *t)
{
    int rc = mbedtls_ssl_handshake(&t->ssl);
    if (rc == 0)
        return check_peer(t) == 0 ? 1 : -1;
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && !t->pinned && flags != 0) {
        char info[256];
        mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        size_t n = strlen(info);
        while (n > 0 && (info[n - 1] == '\n' || info[n - 1] == ' '))
            info[--n] = 0;
        for (char *p = info; *p; p++)
            if (*p == '\n')
                *p = ';';
        set_error(t,
                  "TLS certificate of %s failed verification against the CA store %s: %s "
                  "(give --tls-fingerprint to pin a self-signed certificate)",
                  t->host, t->ca_file, info);
        return -1;
    }
    char why[160];
    mbed_reason(rc, why, sizeof why);
    set_error(t, "TLS handshake with %s failed: %s", t->host, why);
    return -1;
}

int cm_tls_read(cm_tls *t, void *buf, size_t len)
{
    int rc = mbedtls_ssl_read(&t->ssl, buf, len);
    if (rc > 0)
        return rc;
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        set_error(t, "TLS peer %s closed the session", t->host);
        return -1;
    }
    char why[160];
    mbed_reason(rc, why, sizeof why);
    set_error(t, "TLS read from %s failed: %s", t->host, why);
    return -1;
}

int cm_tls_write(cm_tls *t, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        int rc = mbedtls_ssl_write(&t->ssl, p, len);
        if (rc < 0) {
            char why[160];
            mbed_reason(rc, why, sizeof why);
            set_error(t, "TLS write to %s failed: %s", t->host, why);
            return -1;
        }
        p += rc;
        len -= (size_t)rc;
    }
    return 0;
}

size_t cm_tls_output(cm_tls *t, const uint8_t **data)
{
    *data = t->out.data;
    return t->out.len;
}

void cm_tls_output_consume(cm_tls *t, size_t len)
{
    if (len >= t->out.len) {
        t->out.len = 0;
        return;
    }
    memmove(t->out.data, t->out.data + len, t->out.len - len);
    t->out.len -= len;
}

const char *cm_tls_error(const cm_tls *t)
{
    return t->error;
}

const char *cm_tls_peer_fingerprint(const cm_tls *t)
{
    return t->fingerprint;
}

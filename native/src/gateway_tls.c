/* consentminer gateway — wss: the server side of TLS with mbedTLS 2.28, over memory.
 *
 * Like the WebSocket layer, TLS here does no I/O: ciphertext read by libuv is lent to
 * mbedTLS through a recv callback ("want read" when it runs out), and ciphertext mbedTLS
 * produces goes straight to the connection's writer. One configuration (certificate,
 * key, random generator) is shared by every connection; each connection has its own
 * ssl context. Pages served over https must reach the gateway over wss, which is why
 * --cert/--key exist; behind a TLS-terminating proxy they are not needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "gateway_server.h"

typedef struct gw_tls_conf {
    /* The server holds one reference and each connection made with it one more: a
     * SIGHUP reload swaps in a new configuration for new connections while the open ones
     * keep the old until they end (mbedTLS reads the configuration for a session's whole
     * life). */
    int refs;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} gw_tls_conf;

struct gw_tls {
    gw_tls_conf *conf;
    mbedtls_ssl_context ssl;
    const uint8_t *in;
    size_t in_len;
    int (*wire)(void *ud, const uint8_t *p, size_t n);
    void *ud;
    int handshake_done;
};

static void describe(int rc, const char *what, char *err, size_t errlen)
{
    char buf[120];
    mbedtls_strerror(rc, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
}

void gw_tls_conf_free(void *p)
{
    gw_tls_conf *c = p;
    if (!c || --c->refs > 0)
        return;
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->cert);
    mbedtls_pk_free(&c->key);
    mbedtls_ctr_drbg_free(&c->drbg);
    mbedtls_entropy_free(&c->entropy);
    free(c);
}

void *gw_tls_conf_new(const char *cert, const char *key, char *err, size_t errlen)
{
    gw_tls_conf *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->refs = 1;
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->cert);
    mbedtls_pk_init(&c->key);
    mbedtls_entropy_init(&c->entropy);
    mbedtls_ctr_drbg_init(&c->drbg);
    int rc;
    static const unsigned char pers[] = "consentminer-gateway";
    if ((rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy, pers,
                                    sizeof pers - 1))) {
        describe(rc, "random generator", err, errlen);
        goto fail;
    }
    if ((rc = mbedtls_x509_crt_parse_file(&c->cert, cert))) {
        describe(rc, cert, err, errlen);
        goto fail;
    }
    if ((rc = mbedtls_pk_parse_keyfile(&c->key, key, NULL))) {
        describe(rc, key, err, errlen);
        goto fail;
    }
    if ((rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT))) {
        describe(rc, "TLS defaults", err, errlen);
        goto fail;
    }
    mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
    /* TLS 1.2 at least: every browser that runs WebAssembly speaks it. */
    mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    if ((rc = mbedtls_ssl_conf_own_cert(&c->conf, &c->cert, &c->key))) {
        describe(rc, "certificate and key do not match", err, errlen);
        goto fail;
    }
    return c;
fail:
    gw_tls_conf_free(c);
    return NULL;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    gw_tls *t = ctx;
    if (!t->wire || t->wire(t->ud, buf, len))
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    gw_tls *t = ctx;
    if (!t->in_len)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = len < t->in_len ? len : t->in_len;
    memcpy(buf, t->in, n);
    t->in += n;
    t->in_len -= n;
    return (int)n;
}

gw_tls *gw_tls_new(void *conf)
{
    gw_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    mbedtls_ssl_init(&t->ssl);
    if (mbedtls_ssl_setup(&t->ssl, &((gw_tls_conf *)conf)->conf)) {
        mbedtls_ssl_free(&t->ssl);
        free(t);
        return NULL;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    t->conf = conf;
    t->conf->refs++;
    return t;
}

void gw_tls_free(gw_tls *t)
{
    if (!t)
        return;
    mbedtls_ssl_free(&t->ssl);
    gw_tls_conf_free(t->conf);
    free(t);
}

int gw_tls_feed(gw_tls *t, const uint8_t *data, size_t len,
                int (*plain)(void *ud, const uint8_t *p, size_t n),
                int (*wire)(void *ud, const uint8_t *p, size_t n), void *ud)
{
    t->in = data;
    t->in_len = len;
    t->wire = wire;
    t->ud = ud;
    int result = 0;
    if (!t->handshake_done) {
        int rc = mbedtls_ssl_handshake(&t->ssl);
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
            goto out;
        if (rc) {
            result = -1;
            goto out;
        }
        t->handshake_done = 1;
    }
    /* Loop-thread only, and plain() consumes its bytes before returning. */
    static uint8_t buf[16384];
    for (;;) {
        int n = mbedtls_ssl_read(&t->ssl, buf, sizeof buf);
        if (n > 0) {
            if (plain(ud, buf, (size_t)n)) {
                result = -1;
                break;
            }
            continue;
        }
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
            break;
        result = -1; /* close_notify (0) or an error */
        break;
    }
out:
    t->in = NULL;
    t->in_len = 0;
    return result;
}

int gw_tls_write(gw_tls *t, const uint8_t *data, size_t len,
                 int (*wire)(void *ud, const uint8_t *p, size_t n), void *ud)
{
    if (!t->handshake_done)
        return -1;
    t->wire = wire;
    t->ud = ud;
    while (len) {
        int n = mbedtls_ssl_write(&t->ssl, data, len);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* consentminer — TLS client over any byte stream, with mbedTLS 2.28, failing closed.
 *
 * The object does no I/O: the owner feeds it ciphertext read from the socket
 * (cm_tls_feed) and sends what cm_tls_output hands back, so it sits on a libuv stream
 * without mbedTLS ever touching a file descriptor.
 * Trust: with a pin, the server certificate's SHA-256 (over its DER bytes) must equal
 * the pin; without one, the chain must verify against the CA file (the system store by
 * default) and match the host name. Anything else ends the handshake with a message that
 * says which check failed.
 */
#ifndef CM_NATIVE_TLS_H
#define CM_NATIVE_TLS_H

#include <stddef.h>
#include <stdint.h>

#define CM_TLS_DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#define CM_TLS_ERROR_MAX 512

typedef struct cm_tls cm_tls;

/* Parses a SHA-256 fingerprint: 64 hex digits, colons allowed between bytes. 0 or -1. */
int cm_tls_parse_fingerprint(const char *text, uint8_t out[32]);

/* A client session for `host` (SNI and name check). ca_file NULL: the system store.
 * pin NULL: verify the chain. NULL on failure, with the reason in err (CM_TLS_ERROR_MAX). */
cm_tls *cm_tls_client_new(const char *host, const char *ca_file, const uint8_t *pin, char *err,
                          size_t err_len);
void cm_tls_free(cm_tls *t);

/* Ciphertext that arrived from the peer. 0, or -1 when out of memory. */
int cm_tls_feed(cm_tls *t, const void *data, size_t len);

/* Advances the handshake: 1 done and trusted, 0 needs more input (send the output
 * first), -1 failed (cm_tls_error says why: verification, pin or protocol). */
int cm_tls_handshake(cm_tls *t);

/* Plaintext received: bytes read (> 0), 0 when nothing is buffered, -1 on error or when
 * the peer closed the session. */
int cm_tls_read(cm_tls *t, void *buf, size_t len);

/* Encrypts all of data into the output. 0, or -1 on error. */
int cm_tls_write(cm_tls *t, const void *data, size_t len);

/* Ciphertext waiting to be sent: returns its length and points *data at it; after
 * sending (or copying), call cm_tls_output_consume with that length. */
size_t cm_tls_output(cm_tls *t, const uint8_t **data);
void cm_tls_output_consume(cm_tls *t, size_t len);

/* Why the last call failed; "" when none did. */
const char *cm_tls_error(const cm_tls *t);

/* Hex SHA-256 of the peer certificate after the handshake (65 bytes), "" before. */
const char *cm_tls_peer_fingerprint(const cm_tls *t);

#endif

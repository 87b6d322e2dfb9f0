/* consentminer gateway — behind a reverse proxy (--trust-proxy): which peers are trusted
 * proxies, and the visitor's address they pass on, in a PROXY protocol v1 line or in
 * X-Forwarded-For. Bytes and text in, addresses out, without sockets (tests, fuzz/).
 */
#ifndef CM_NATIVE_GATEWAY_PROXY_H
#define CM_NATIVE_GATEWAY_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* One --trust-proxy network. */
typedef struct gw_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int bits;
} gw_cidr;

/* "a.b.c.d/N" (N 0..32) or "x::y/N" (0..128); an address alone is one host. Bits set
 * after the prefix are refused (a mistyped network). 0, or -1 with err filled. */
int gw_cidr_parse(const char *text, gw_cidr *out, char *err, size_t errlen);
/* 1 when sa is in one of the n networks; an IPv4-mapped IPv6 address (a dual-stack
 * listener's IPv4 peer) counts as its IPv4 address. */
int gw_cidr_match(const gw_cidr *list, size_t n, const struct sockaddr *sa);

/* Text -> address for one IPv4 or IPv6 address, nothing around it. 0 or -1. */
int gw_addr_parse(const char *text, size_t len, struct sockaddr_storage *out);

/* The longest PROXY protocol v1 line, CRLF included (the HAProxy specification, 2.1). */
#define GW_PROXY_V1_MAX 107

/* What the first bytes of a connection are. */
typedef enum gw_proxy_state {
    GW_PROXY_NONE = 0, /* not a PROXY line: the bytes belong to HTTP or TLS */
    GW_PROXY_MORE,     /* a PROXY line so far (or the start of "PROXY "): need more bytes */
    GW_PROXY_OK,       /* a whole valid line */
    GW_PROXY_BAD       /* a PROXY line that is malformed (err says how) */
} gw_proxy_state;

/* Reads a PROXY v1 line at the start of data. GW_PROXY_OK: *used is the line's length
 * with CRLF, *src the source address and port ("TCP4"/"TCP6"), or ss_family AF_UNSPEC
 * for "UNKNOWN" (the proxy's own connection: its address stands). is_proxy (may be NULL)
 * becomes 1 as soon as data starts with "PROXY ", whatever follows. */
gw_proxy_state gw_proxy_v1_parse(const char *data, size_t len, size_t *used,
                                 struct sockaddr_storage *src, int *is_proxy, char *err,
                                 size_t errlen);

/* The visitor's address from an X-Forwarded-For value ("client, proxy1, proxy2"): the
 * right-most address outside the trusted networks, since every proxy appends the peer
 * it saw and only the part trusted proxies wrote can be believed; when every address is
 * trusted, the left-most. 0 with *out filled; 1 when the value holds no address (empty);
 * -1 when an entry that would be read is not an address (err names it). */
int gw_xff_pick(const char *value, const gw_cidr *trusted, size_t n, struct sockaddr_storage *out,
                char *err, size_t errlen);

#endif

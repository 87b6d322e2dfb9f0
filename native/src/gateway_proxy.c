/* consentminer gateway — trusted proxies and the visitor address they pass on (see
 * gateway_proxy.h). Only what a trusted peer sends is read here; the server decides
 * whom to ask (gateway_server.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_proxy.h"

static int prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole))
        return 0;
    if (!rest)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int gw_addr_parse(const char *text, size_t len, struct sockaddr_storage *out)
{
    char buf[64];
    /* No IPv6 zone ("%eth0"): no proxy sends one for a visitor. */
    if (len == 0 || len >= sizeof buf || memchr(text, '%', len))
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

int gw_cidr_parse(const char *text, gw_cidr *out, char *err, size_t errlen)
{
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    struct sockaddr_storage ss;
    if (gw_addr_parse(text, alen, &ss)) {
        snprintf(err, errlen, "'%.*s' is not an IPv4 or IPv6 address", (int)alen, text);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->family = ss.ss_family;
    int max = ss.ss_family == AF_INET ? 32 : 128;
    if (ss.ss_family == AF_INET)
        memcpy(out->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    else
        memcpy(out->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    out->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || slash[1] < '0' || slash[1] > '9' || b < 0 || b > max) {
            snprintf(err, errlen, "prefix length '%s' is not a number 0..%d", slash + 1, max);
            return -1;
        }
        out->bits = (int)b;
    }
    uint8_t net[16] = {0};
    memcpy(net, out->addr, (size_t)(out->bits / 8));
    if (out->bits % 8)
        net[out->bits / 8] = out->addr[out->bits / 8] & (uint8_t)(0xff << (8 - out->bits % 8));
    if (memcmp(net, out->addr, (size_t)max / 8)) {
        char shown[64];
        inet_ntop(out->family, net, shown, sizeof shown);
        snprintf(err, errlen, "host bits set after the /%d prefix (the network is %s/%d)",
                 out->bits, shown, out->bits);
        return -1;
    }
    return 0;
}

int gw_cidr_match(const gw_cidr *list, size_t n, const struct sockaddr *sa)
{
    const uint8_t *a4 = NULL, *a6 = NULL;
    if (sa->sa_family == AF_INET) {
        a4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(a6, mapped, 12))
            a4 = a6 + 12;
    }
    for (size_t i = 0; i < n; i++) {
        if (list[i].family == AF_INET && a4 && prefix_match(list[i].addr, a4, list[i].bits))
            return 1;
        if (list[i].family == AF_INET6 && a6 && prefix_match(list[i].addr, a6, list[i].bits))
            return 1;
    }
    return 0;
}

/* ---- PROXY protocol v1 ---- */

static int port_parse(const char *s, size_t len, int *port)
{
    /* Decimal without leading zeros, as the specification writes them. */
    if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port = v;
    return 0;
}

gw_proxy_state gw_proxy_v1_parse(const char *data, size_t len, size_t *used,
                                 struct sockaddr_storage *src, int *is_proxy, char *err,
                                 size_t errlen)
{
    static const char sig[] = "PROXY ";
    size_t sl = sizeof sig - 1;
    if (is_proxy)
        *is_proxy = 0;
    if (memcmp(data, sig, len < sl ? len : sl))
        return GW_PROXY_NONE;
    if (len < sl)
        return GW_PROXY_MORE;
    if (is_proxy)
        *is_proxy = 1;
    size_t look = len < GW_PROXY_V1_MAX ? len : GW_PROXY_V1_MAX;
    size_t end = sl;
    while (end < look && data[end] != '\r' && data[end] != '\n')
        end++;
    if (end == look) {
        if (look == GW_PROXY_V1_MAX) {
            snprintf(err, errlen, "PROXY line without CRLF in its first %d bytes", GW_PROXY_V1_MAX);
            return GW_PROXY_BAD;
        }
        return GW_PROXY_MORE;
    }
    if (data[end] == '\n' || end + 2 > GW_PROXY_V1_MAX) {
        snprintf(err, errlen, "PROXY line not ended by CRLF within %d bytes", GW_PROXY_V1_MAX);
        return GW_PROXY_BAD;
    }
    if (end + 1 == len)
        return GW_PROXY_MORE; /* the '\n' is yet to come */
    if (data[end + 1] != '\n') {
        snprintf(err, errlen, "PROXY line not ended by CRLF");
        return GW_PROXY_BAD;
    }
    /* Fields: protocol, source, destination, source port, destination port, one space
     * apart (an empty field is two spaces). */
    const char *f[5];
    size_t fl[5];
    int nf = 0;
    for (size_t i = sl;;) {
        size_t j = i;
        while (j < end && data[j] != ' ')
            j++;
        if (nf < 5) {
            f[nf] = data + i;
            fl[nf] = j - i;
        }
        nf++;
        if (j >= end)
            break;
        i = j + 1;
    }
    for (size_t i = sl; i < end; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (ch < 0x20 || ch > 0x7e) {
            snprintf(err, errlen, "PROXY line with a control or non-ASCII byte 0x%02x", ch);
            return GW_PROXY_BAD;
        }
    }
    memset(src, 0, sizeof *src);
    if (nf >= 1 && fl[0] == 7 && !memcmp(f[0], "UNKNOWN", 7)) {
        /* The proxy's own connection (a health check): the rest of the line is ignored. */
        src->ss_family = AF_UNSPEC;
        *used = end + 2;
        return GW_PROXY_OK;
    }
    int family = nf >= 1 && fl[0] == 4 && !memcmp(f[0], "TCP4", 4)   ? AF_INET
                 : nf >= 1 && fl[0] == 4 && !memcmp(f[0], "TCP6", 4) ? AF_INET6
                                                                     : 0;
    if (!family) {
        snprintf(err, errlen, "PROXY protocol '%.*s'; expected TCP4, TCP6 or UNKNOWN",
                 nf ? (int)(fl[0] > 16 ? 16 : fl[0]) : 0, nf ? f[0] : "");
        return GW_PROXY_BAD;
    }
    if (nf != 5 || !fl[1] || !fl[2] || !fl[3] || !fl[4]) {
        snprintf(err, errlen,
                 "PROXY line has %s fields; expected 'PROXY %s SRC DST SPORT DPORT' with "
                 "single spaces",
                 nf > 5   ? "too many"
                 : nf < 5 ? "too few"
                          : "empty",
                 family == AF_INET ? "TCP4" : "TCP6");
        return GW_PROXY_BAD;
    }
    struct sockaddr_storage dst;
    for (int k = 1; k <= 2; k++) {
        struct sockaddr_storage *a = k == 1 ? src : &dst;
        if (gw_addr_parse(f[k], fl[k], a) || a->ss_family != family) {
            snprintf(err, errlen, "PROXY %s address '%.*s' is not an %s address",
                     k == 1 ? "source" : "destination", (int)(fl[k] > 48 ? 48 : fl[k]), f[k],
                     family == AF_INET ? "IPv4" : "IPv6");
            return GW_PROXY_BAD;
        }
    }
    int sport, dport;
    if (port_parse(f[3], fl[3], &sport) || port_parse(f[4], fl[4], &dport)) {
        snprintf(err, errlen, "PROXY port '%.*s' is not a number 0..65535",
                 (int)(fl[3] > 8 ? 8 : fl[3]), f[3]);
        return GW_PROXY_BAD;
    }
    if (family == AF_INET)
        ((struct sockaddr_in *)src)->sin_port = htons((uint16_t)sport);
    else
        ((struct sockaddr_in6 *)src)->sin6_port = htons((uint16_t)sport);
    *used = end + 2;
    return GW_PROXY_OK;
}

/* ---- X-Forwarded-For ---- */

int gw_xff_pick(const char *value, const gw_cidr *trusted, size_t n, struct sockaddr_storage *out,
                char *err, size_t errlen)
{
    size_t end = strlen(value);
    if (strspn(value, " \t") == end)
        return 1; /* an empty header */
    for (;;) {
        size_t start = end;
        while (start > 0 && value[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (value[a] == ' ' || value[a] == '\t'))
            a++;
        while (b > a && (value[b - 1] == ' ' || value[b - 1] == '\t'))
            b--;
        struct sockaddr_storage ss;
        if (gw_addr_parse(value + a, b - a, &ss)) {
            snprintf(err, errlen, "X-Forwarded-For entry '%.*s' is not an IP address",
                     (int)(b - a > 48 ? 48 : b - a), value + a);
            return -1;
        }
        *out = ss;
        if (!gw_cidr_match(trusted, n, (struct sockaddr *)&ss))
            return 0;
        if (start == 0)
            return 0; /* every hop trusted: the first one is the visitor */
        end = start - 1;
    }
}

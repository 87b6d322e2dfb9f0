/* consentminer — outside text made safe to show (see safe_text.h). */
#include "safe_text.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 character at s (RFC 3629, section 4), or 0 when the bytes
 * there do not form one. s is NUL-terminated, so reading stops at the NUL. */
static size_t utf8_char_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* beyond U+10FFFF */
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* 1 when s holds, up to its NUL, only the start of a character: text someone already
 * cut by bytes. Its end is dropped rather than shown as '?'. */
static int utf8_cut_short(const unsigned char *s)
{
    if (s[0] < 0xC2 || s[0] > 0xF4)
        return 0;
    size_t need = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2, i = 1;
    while (s[i] && (s[i] & 0xC0) == 0x80)
        i++;
    return s[i] == 0 && i < need;
}

size_t txt_utf8_cut(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    size_t out = 0;
    while (*s) {
        size_t n = utf8_char_len(s);
        if (!n && utf8_cut_short(s))
            break;
        size_t w = n ? n : 1;
        if (out + w > cap - 1)
            break;
        if (n)
            memcpy(dst + out, s, n);
        else
            dst[out] = '?';
        out += w;
        s += w;
    }
    dst[out] = 0;
    return out;
}

size_t txt_log_escape(char *dst, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        char esc[4];
        size_t w;
        if (c == '\\') {
            esc[0] = esc[1] = '\\';
            w = 2;
        } else if (c >= 0x20 && c < 0x7F) {
            esc[0] = (char)c;
            w = 1;
        } else {
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            w = 4;
        }
        if (out + w > cap - 1)
            break;
        memcpy(dst + out, esc, w);
        out += w;
    }
    dst[out] = 0;
    return out;
}

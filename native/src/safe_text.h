/* consentminer — outside text made safe to show: cut to fit without breaking UTF-8, and
 * escaped for a log line.
 *
 * A browser fails a WebSocket connection whose close reason is not valid UTF-8, and
 * jansson refuses to serialise a string that is not, so a reply or close reason cut in
 * the middle of a character is lost altogether. Text from a pool, monerod or a browser
 * (method names, error strings, Origin, User-Agent) may hold terminal escape sequences
 * or line breaks that forge log lines; every log line goes through txt_log_escape.
 */
#ifndef CM_NATIVE_SAFE_TEXT_H
#define CM_NATIVE_SAFE_TEXT_H

#include <stddef.h>

/* Copies src (NUL-terminated, may be NULL for "") into dst of cap bytes (cap >= 1), at
 * most cap - 1 bytes and a NUL, cutting only between whole UTF-8 characters; a
 * character src itself ends in the middle of (text cut earlier by bytes) is dropped;
 * other bytes that are not valid UTF-8 (stray continuation bytes, overlong forms,
 * surrogates, beyond U+10FFFF) become '?'. The result is always valid UTF-8. Returns its
 * length. */
size_t txt_utf8_cut(char *dst, size_t cap, const char *src);

/* Writes src (len bytes) into dst of cap bytes (cap >= 1) with every byte outside
 * printable ASCII written as \xNN and the backslash as \\, so a log line stays one line
 * of plain text whatever it quotes. Cuts between escapes when dst is full. Returns the
 * length written. */
size_t txt_log_escape(char *dst, size_t cap, const char *src, size_t len);

#endif

/* consentminer — hex decoding and encoding with errors that name the field. */
#include "consentminer/hex.h"

int cm_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cm_hex_decode(const char *field, const char *hex, size_t hex_len, uint8_t *out, size_t out_cap,
                  size_t *out_len, cm_error *err)
{
    if (field == NULL)
        field = "hex";
    if (hex == NULL && hex_len > 0)
        return cm_error_set(err, CM_E_INVAL, "%s is missing", field);
    if (hex_len % 2 != 0)
        return cm_error_set(err, CM_E_HEX_ODD,
                            "%s has %zu hex characters; expected an even number (2 per byte)",
                            field, hex_len);
    if (hex_len / 2 > out_cap || (hex_len > 0 && out == NULL))
        return cm_error_set(err, CM_E_INVAL, "%s is %zu bytes of hex; at most %zu fit", field,
                            hex_len / 2, out == NULL ? (size_t)0 : out_cap);
    for (size_t i = 0; i < hex_len; i += 2) {
        int hi = cm_hex_digit(hex[i]);
        int lo = cm_hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = hi < 0 ? i : i + 1;
            unsigned char c = (unsigned char)hex[at];
            if (c >= 0x20 && c < 0x7f)
                return cm_error_set(err, CM_E_HEX_CHAR,
                                    "%s has '%c' at character %zu; expected hex digits 0-9a-f",
                                    field, (char)c, at);
            return cm_error_set(err, CM_E_HEX_CHAR,
                                "%s has byte 0x%02x at character %zu; expected hex digits 0-9a-f",
                                field, (unsigned)c, at);
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len != NULL)
        *out_len = hex_len / 2;
    cm_error_clear(err);
    return CM_OK;
}

void cm_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

/* consentminer tests — the oracle's table for the wasm build of the rounding layer.
 *
 * Writes, to stdout, records of 32 bytes (native byte order, which wasm shares: little
 * endian): u32 op, u32 mode, f64 a, f64 b, f64 hardware result, for `count` operand
 * pairs (default 1,000,000) of each operation (add, sub, mul, div, sqrt) in each of the
 * four rounding modes, computed by this machine's hardware under fesetround.
 * tests/wasm/fround-check.mjs feeds them to wasm/src/fround.c compiled to wasm.
 *
 *   fround_table [count]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fround_hw.h"
#include "fround_operands.h"

#define BATCH 65536

int main(int argc, char **argv)
{
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (count < 1) {
        fprintf(stderr, "fround_table: count must be positive\n");
        return 2;
    }
    static double a[BATCH], b[BATCH], r[BATCH];
    static unsigned char rec[BATCH][32];
    for (uint32_t op = 0; op < 5; op++) {
        for (uint32_t mode = 0; mode < 4; mode++) {
            /* seeds differ from tests/unit/test_fround.c's: other operands again */
            uint64_t seed = 0x7ab1e000u + (uint64_t)op * 16 + mode;
            for (long done = 0; done < count; done += BATCH) {
                size_t n = count - done < BATCH ? (size_t)(count - done) : BATCH;
                for (size_t i = 0; i < n; i++)
                    fo_operands(&seed, (int)op, &a[i], &b[i]);
                if (fo_hw_batch((int)op, (int)mode, a, b, r, n)) {
                    fprintf(stderr, "fround_table: fesetround failed\n");
                    return 1;
                }
                for (size_t i = 0; i < n; i++) {
                    memcpy(rec[i], &op, 4);
                    memcpy(rec[i] + 4, &mode, 4);
                    memcpy(rec[i] + 8, &a[i], 8);
                    memcpy(rec[i] + 16, &b[i], 8);
                    memcpy(rec[i] + 24, &r[i], 8);
                }
                if (fwrite(rec, 32, n, stdout) != n) {
                    perror("fround_table: write");
                    return 1;
                }
            }
        }
    }
    return fflush(stdout) ? 1 : 0;
}

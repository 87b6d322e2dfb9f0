/* consentminer — differential test of the software rounding layer (wasm/src/fround.c)
 * against this machine's hardware rounding.
 *
 * RandomX in WebAssembly depends on wasm/src/fround.c for its four rounding modes; here
 * the same C is compiled natively and compared, bit for bit, with the hardware's own
 * add/sub/mul/div/sqrt under fesetround: for each operation and each mode, a million
 * operands (tests/wasm/fround_operands.h: RandomX's value ranges plus infinities, zeros,
 * NaN, the largest and smallest exponents, overflow, subnormal results and ties). The
 * wasm build of the same file is checked against a table from this oracle by
 * tests/wasm/fround-check.mjs.
 *
 * fround.c is linked as the native build of the library target the wasm build also
 * uses (wasm/portable.cmake).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fround.h"
#include "../wasm/fround_hw.h"
#include "../wasm/fround_operands.h"

#define PER_MODE 1000000
#define BATCH 65536

static const char *const op_names[5] = {"add", "sub", "mul", "div", "sqrt"};
static const char *const mode_names[4] = {"nearest", "down", "up", "zero"};

static double emulate(int op, double a, double b, unsigned mode)
{
    switch (op) {
    case CM_FROUND_ADD:
        return cm_fround_add(a, b, mode);
    case CM_FROUND_SUB:
        return cm_fround_sub(a, b, mode);
    case CM_FROUND_MUL:
        return cm_fround_mul(a, b, mode);
    case CM_FROUND_DIV:
        return cm_fround_div(a, b, mode);
    default:
        return cm_fround_sqrt(a, mode);
    }
}

/* Bit-identical, except that any NaN equals any NaN (payloads are not specified). */
static int same(double x, double y)
{
    if (x != x && y != y)
        return 1;
    return cm_fround_bits(x) == cm_fround_bits(y);
}

static void check_op(int op)
{
    static double a[BATCH], b[BATCH], hw[BATCH];
    for (unsigned mode = 0; mode < 4; mode++) {
        uint64_t seed = 0x5eed0000u + (uint64_t)op * 16 + mode;
        long mismatches = 0;
        for (long done = 0; done < PER_MODE; done += BATCH) {
            size_t n = PER_MODE - done < BATCH ? (size_t)(PER_MODE - done) : BATCH;
            for (size_t i = 0; i < n; i++)
                fo_operands(&seed, op, &a[i], &b[i]);
            assert_int_equal(fo_hw_batch(op, (int)mode, a, b, hw, n), 0);
            for (size_t i = 0; i < n; i++) {
                double em = emulate(op, a[i], b[i], mode);
                if (!same(em, hw[i])) {
                    if (mismatches < 10)
                        print_error("%s %s: a=%a b=%a hardware=%a emulated=%a\n", op_names[op],
                                    mode_names[mode], a[i], b[i], hw[i], em);
                    mismatches++;
                }
            }
        }
        if (mismatches)
            fail_msg("%s in mode %s: %ld of %d results differ from the hardware", op_names[op],
                     mode_names[mode], mismatches, PER_MODE);
    }
}

static void test_add(void **state)
{
    (void)state;
    check_op(CM_FROUND_ADD);
}

static void test_sub(void **state)
{
    (void)state;
    check_op(CM_FROUND_SUB);
}

static void test_mul(void **state)
{
    (void)state;
    check_op(CM_FROUND_MUL);
}

static void test_div(void **state)
{
    (void)state;
    check_op(CM_FROUND_DIV);
}

static void test_sqrt(void **state)
{
    (void)state;
    check_op(CM_FROUND_SQRT);
}

/* Hand-picked cases whose answers are known without the hardware. */
static void test_known_cases(void **state)
{
    (void)state;
    const double max = 0x1.fffffffffffffp1023, tiny = 0x1p-1074;
    /* overflow: IEEE 754 7.4, directed modes stop at the largest finite number */
    assert_true(cm_fround_mul(max, 2.0, CM_FROUND_DOWN) == max);
    assert_true(cm_fround_mul(max, 2.0, CM_FROUND_ZERO) == max);
    assert_true(cm_fround_mul(max, 2.0, CM_FROUND_UP) == __builtin_inf());
    assert_true(cm_fround_mul(-max, 2.0, CM_FROUND_UP) == -max);
    assert_true(cm_fround_add(max, max, CM_FROUND_DOWN) == max);
    /* infinite operands are exact, not an overflow */
    assert_true(cm_fround_mul(__builtin_inf(), 3.0, CM_FROUND_DOWN) == __builtin_inf());
    assert_true(cm_fround_add(__builtin_inf(), -max, CM_FROUND_ZERO) == __builtin_inf());
    /* 1 + 2^-53 is a tie: nearest-even gives 1, up gives the next double */
    assert_true(cm_fround_add(1.0, 0x1p-53, CM_FROUND_NEAREST) == 1.0);
    assert_true(cm_fround_add(1.0, 0x1p-53, CM_FROUND_UP) == 1.0 + 0x1p-52);
    assert_true(cm_fround_add(1.0, 0x1p-53, CM_FROUND_DOWN) == 1.0);
    assert_true(cm_fround_sub(1.0, 0x1p-53, CM_FROUND_DOWN) == 1.0 - 0x1p-53);
    /* exact zero sums are -0 only when rounding down */
    assert_true(cm_fround_bits(cm_fround_sub(3.0, 3.0, CM_FROUND_DOWN)) == 0x8000000000000000ull);
    assert_true(cm_fround_bits(cm_fround_sub(3.0, 3.0, CM_FROUND_UP)) == 0);
    /* underflow: a product below the smallest subnormal */
    assert_true(cm_fround_mul(tiny, 0.25, CM_FROUND_UP) == tiny);
    assert_true(cm_fround_mul(tiny, 0.25, CM_FROUND_DOWN) == 0.0);
    assert_true(cm_fround_mul(-tiny, 0.25, CM_FROUND_DOWN) == -tiny);
    /* 1/3 and sqrt(2) bracketed by the directed modes */
    assert_true(cm_fround_div(1.0, 3.0, CM_FROUND_UP) - cm_fround_div(1.0, 3.0, CM_FROUND_DOWN) ==
                0x1p-54);
    assert_true(cm_fround_sqrt(2.0, CM_FROUND_UP) > cm_fround_sqrt(2.0, CM_FROUND_ZERO));
    assert_true(cm_fround_sqrt(4.0, CM_FROUND_DOWN) == 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_cases), cmocka_unit_test(test_add), cmocka_unit_test(test_sub),
        cmocka_unit_test(test_mul),         cmocka_unit_test(test_div), cmocka_unit_test(test_sqrt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

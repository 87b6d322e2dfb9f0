/* consentminer tests — the oracle for the float rounding layer: the host's hardware
 * (x86-64 SSE2 or AArch64) rounding in each IEEE mode, set with fesetround.
 *
 * Operands go through volatile objects so the compiler can neither fold the operations
 * nor move them across fesetround (GCC does not model the floating-point environment
 * without -frounding-math). The mode is restored to round-to-nearest before returning.
 */
#ifndef CM_TEST_FROUND_HW_H
#define CM_TEST_FROUND_HW_H

#include <fenv.h>
#include <math.h>
#include <stddef.h>

static const int fo_fenv_modes[4] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};

/* r[i] = a[i] op b[i] in RandomX mode `mode` (0..3), on the hardware. 0 on success. */
static int fo_hw_batch(int op, int mode, const double *a, const double *b, double *r, size_t n)
{
    if (fesetround(fo_fenv_modes[mode & 3]) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        volatile double x = a[i], y = b[i];
        volatile double z;
        switch (op) {
        case 0:
            z = x + y;
            break;
        case 1:
            z = x - y;
            break;
        case 2:
            z = x * y;
            break;
        case 3:
            z = x / y;
            break;
        default:
            z = sqrt(x);
            break;
        }
        r[i] = z;
    }
    return fesetround(FE_TONEAREST);
}

#endif

/* consentminer — what a benchmark report says about the processor it ran on. */
#ifndef CM_NATIVE_CPU_INFO_H
#define CM_NATIVE_CPU_INFO_H

#include <stddef.h>

/* The first "model name" of /proc/cpuinfo into out (NUL-terminated); "unknown" when
 * there is none. */
void cm_cpu_model(char *out, size_t size);

/* Which of the instruction-set flags RandomX and its dataset initialisation can use
 * (AES-NI, SSSE3, AVX2, AVX-512 ...) the first CPU of /proc/cpuinfo lists: calls
 * `each` for each present one, in a fixed order. Returns how many; 0 when unknown. */
int cm_cpu_flags(void (*each)(void *ud, const char *flag), void *ud);

#endif

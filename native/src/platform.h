/* consentminer — the few things native code asks of the OS: clocks, CPU time, memory. */
#ifndef CM_NATIVE_PLATFORM_H
#define CM_NATIVE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, milliseconds since the Unix epoch (for consent expiry). */
int64_t cm_wall_ms(void);
/* Monotonic clock in milliseconds (for rates and timeouts). */
double cm_mono_ms(void);
/* CPU time of the calling thread, and of the whole process, in milliseconds. */
double cm_thread_cpu_ms(void);
double cm_process_cpu_ms(void);
/* Memory the kernel reports available (MemAvailable), in bytes; 0 when unknown. */
uint64_t cm_mem_available(void);
/* Free reserved huge pages (HugePages_Free) times their size, in bytes. */
uint64_t cm_huge_pages_free_bytes(void);
/* Asks for transparent huge pages on [p, p+size) (MADV_HUGEPAGE); returns 1 when the
 * kernel accepted the advice. Reserved huge pages are scarce; THP in "madvise" mode gives
 * 2 MiB pages to advised memory with nothing reserved (docs/design.md, measured here). */
int cm_advise_huge_pages(void *p, size_t size);
/* "always", "madvise" or "never" from /sys/kernel/mm/transparent_hugepage/enabled. */
const char *cm_thp_mode(void);
/* Number of online CPUs. */
int cm_cpu_count(void);
/* Sleeps for ms milliseconds (whole process thread). */
void cm_sleep_ms(double ms);

#endif

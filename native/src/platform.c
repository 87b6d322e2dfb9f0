/* consentminer — clocks, CPU time and memory facts from Linux (see platform.h). */
#include "platform.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int64_t cm_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double cm_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

double cm_thread_cpu_ms(void)
{
    return clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

double cm_process_cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Reads one "Key: N kB" (or plain count) line of /proc/meminfo. */
static uint64_t meminfo(const char *key, int kb)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t v = 0;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            unsigned long long n = 0;
            if (sscanf(line + klen + 1, "%llu", &n) == 1)
                v = kb ? n * 1024ULL : n;
            break;
        }
    }
    fclose(f);
    return v;
}

uint64_t cm_mem_available(void)
{
    return meminfo("MemAvailable", 1);
}

uint64_t cm_huge_pages_free_bytes(void)
{
    return meminfo("HugePages_Free", 0) * meminfo("Hugepagesize", 1);
}

int cm_advise_huge_pages(void *p, size_t size)
{
#ifdef MADV_HUGEPAGE
    if (!p || !size)
        return 0;
    /* madvise needs a page-aligned start; advise the whole pages inside the range. */
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t end = ((uintptr_t)p + size) & ~((uintptr_t)page - 1);
    if (end <= start)
        return 0;
    return madvise((void *)start, end - start, MADV_HUGEPAGE) == 0;
#else
    (void)p;
    (void)size;
    return 0;
#endif
}

const char *cm_thp_mode(void)
{
    static const char *modes[] = {"always", "madvise", "never"};
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return "unknown";
    char buf[128] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    for (size_t i = 0; i < 3; i++) {
        char want[32];
        snprintf(want, sizeof want, "[%s]", modes[i]);
        if (strstr(buf, want))
            return modes[i];
    }
    return "unknown";
}

int cm_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void cm_sleep_ms(double ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

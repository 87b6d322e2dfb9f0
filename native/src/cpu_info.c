/* consentminer — processor model and flags from /proc/cpuinfo (see cpu_info.h). */
#include "cpu_info.h"

#include <stdio.h>
#include <string.h>

/* The value of the first "key : value" line of /proc/cpuinfo whose key is `key`. */
static int cpuinfo_field(const char *key, char *out, size_t size)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[4096];
    size_t klen = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0 ||
            (line[klen] != ' ' && line[klen] != '\t' && line[klen] != ':'))
            continue;
        char *v = strchr(line, ':');
        if (!v)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = 0;
        snprintf(out, size, "%s", v);
        found = 1;
    }
    fclose(f);
    return found;
}

void cm_cpu_model(char *out, size_t size)
{
    if (!cpuinfo_field("model name", out, size) || !out[0])
        snprintf(out, size, "unknown");
}

int cm_cpu_flags(void (*each)(void *ud, const char *flag), void *ud)
{
    /* The flags that change RandomX's speed: hardware AES for its AES rounds and
     * generators, SSSE3/AVX2 for Argon2 (the cache), AVX2/AVX-512 for vectorised
     * dataset items, BMI2 for its JIT. Everything else in a flags line says nothing
     * about a RandomX benchmark. */
    static const char *wanted[] = {"aes",      "ssse3",    "sse4_1",  "avx",
                                   "avx2",     "bmi2",     "avx512f", "avx512bw",
                                   "avx512dq", "avx512vl", "vaes",    "vpclmulqdq"};
    char flags[4096];
    if (!cpuinfo_field("flags", flags, sizeof flags))
        return 0;
    int n = 0;
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        size_t len = strlen(wanted[i]);
        for (const char *p = flags; (p = strstr(p, wanted[i])) != NULL; p += len) {
            int starts = p == flags || p[-1] == ' ';
            int ends = p[len] == ' ' || p[len] == 0;
            if (starts && ends) {
                each(ud, wanted[i]);
                n++;
                break;
            }
        }
    }
    return n;
}

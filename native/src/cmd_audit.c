/* consentminer audit: runs audit/audit.mjs (node, playwright-core, Chromium) with the
 * same arguments. The audit drives a browser, which is node's job, not this binary's; this
 * file only finds the script and hands over the process.
 *
 * The script is looked for, in order, at:
 *   $CM_AUDIT_SCRIPT                                   (set by hand or by a package)
 *   <dir of this binary>/../../audit/audit.mjs         (the build tree: build/native/)
 *   <dir of this binary>/../share/consentminer/audit/audit.mjs   (an installed prefix)
 * and run with $NODE, or `node` from PATH. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static int readable(const char *path)
{
    return path && *path && access(path, R_OK) == 0;
}

/* Writes into `out` the first candidate script that exists; returns 0 or -1. */
static int find_script(char *out, size_t size)
{
    const char *env = getenv("CM_AUDIT_SCRIPT");
    if (env && *env) {
        if (!readable(env)) {
            fprintf(stderr, "consentminer audit: CM_AUDIT_SCRIPT is '%s', which cannot be read\n",
                    env);
            return -1;
        }
        snprintf(out, size, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        static const char *const rel[] = {"/../../audit/audit.mjs",
                                          "/../share/consentminer/audit/audit.mjs"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            if ((size_t)snprintf(out, size, "%s%s", exe, rel[i]) < size && readable(out))
                return 0;
        }
    }
    fprintf(stderr,
            "consentminer audit: audit/audit.mjs not found beside this binary "
            "(../../audit/ or ../share/consentminer/audit/); set CM_AUDIT_SCRIPT to its path\n");
    return -1;
}

int cm_cmd_audit(int argc, char **argv)
{
    char script[PATH_MAX];
    if (find_script(script, sizeof script) != 0)
        return 2;
    const char *node = getenv("NODE");
    if (!node || !*node)
        node = "node";
    /* node SCRIPT ARGS... : argv[0] is "audit", replaced by the script's path. */
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) {
        fprintf(stderr, "consentminer audit: out of memory\n");
        return 2;
    }
    args[0] = (char *)node;
    args[1] = script;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    execvp(node, args);
    fprintf(stderr, "consentminer audit: cannot run '%s': %s (install Node.js or set NODE)\n", node,
            strerror(errno));
    free(args);
    return 2;
}

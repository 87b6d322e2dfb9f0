/* consentminer wasm — what RandomX's yield points do (wasm/patches/0002-yield-points.patch).
 *
 * A browser lets a terminated worker finish the task it is running (Chromium waits up
 * to 2 s before it forces the end), and a RandomX hash is one call into wasm of about
 * 0.4 s, a cache initialisation several seconds. Stop must give the CPU back within
 * 100 ms (docs/design.md, consent rule 5), so RandomX calls cm_rx_yield_point() between
 * its programs and during the cache fill:
 *  - one-thread build: when yielding is on (a worker's mining or cache call) and 20 ms
 *    have passed, the call stack is saved with Emscripten's Asyncify and the worker
 *    returns to its event loop, where a terminate, a pause or a message is seen; the
 *    embedder's Module.cmYield(resume) decides when the hash goes on;
 *  - shared-memory build: the thread checks the stop flag the page sets in shared
 *    memory, and if set, sleeps until the worker is gone (threads.c).
 */
#include <emscripten/emscripten.h>

#include "session.h"

#ifdef __EMSCRIPTEN_PTHREADS__

void cm_rx_yield_point(void)
{
    cm_wasm_mt_yield_point();
}

#else

#define CM_WASM_SLICE_MS 20.0

static int yield_on;
static double last_yield;

/* Unwinds to JavaScript; Module.cmYield(resume) calls resume() when the hash may go on. */
EM_JS(void, cm_wasm_yield_js, (void),
      { return Asyncify.handleSleep(function(resume) { Module['cmYield'](resume); }); });

EMSCRIPTEN_KEEPALIVE void cm_wasm_set_yield(int on)
{
    yield_on = on;
    last_yield = emscripten_get_now();
}

void cm_rx_yield_point(void)
{
    if (!yield_on)
        return;
    double now = emscripten_get_now();
    if (now - last_yield < CM_WASM_SLICE_MS)
        return;
    cm_wasm_yield_js();
    last_yield = emscripten_get_now();
}

#endif

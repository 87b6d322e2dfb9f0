/* The batched dataset build (issue 18) against RandomX's own randomx_init_dataset: item
 * ranges spread over the whole dataset, of lengths that start and end inside batches,
 * for two seeds, byte for byte. Both datasets are 2 GiB mappings of which only the pages
 * written are ever touched (a few MiB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <randomx.h>

#include "consentminer.h"

typedef struct range {
    unsigned long start, count;
} range;

/* Deterministic spread: both ends, batch edges (64 items), and 200 pseudo-random ranges
 * of 1..130 items. */
static size_t sample(range *out, size_t max)
{
    const unsigned long items = randomx_dataset_item_count();
    size_t n = 0;
    const range fixed[] = {{0, 1},      {1, 70},          {63, 2},       {64, 64},
                           {1000, 129}, {items - 65, 65}, {items - 1, 1}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        out[n++] = fixed[i];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    while (n < max) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        unsigned long count = 1 + (unsigned long)((x >> 20) % 130);
        unsigned long start = (unsigned long)((x >> 33) % (items - count));
        out[n++] = (range){start, count};
    }
    return n;
}

static void check_seed(const uint8_t *seed, size_t seed_len)
{
    cm_error err;
    cm_rx_cache *c = NULL;
    cm_rx_dataset *ours = NULL;
    assert_int_equal(cm_rx_cache_new(0, &c, &err), CM_OK);
    assert_int_equal(cm_rx_cache_set_seed(c, seed, seed_len, NULL, &err), CM_OK);
#ifdef CM_EXPECT_BATCHED_INIT
    /* Otherwise this would compare RandomX with itself. */
    assert_int_equal(cm_rx_cache_fast_init(c), 1);
#endif
    assert_int_equal(cm_rx_dataset_new(0, &ours, &err), CM_OK);

    randomx_flags f = randomx_get_flags();
    randomx_cache *rc = randomx_alloc_cache(f);
    assert_non_null(rc);
    randomx_init_cache(rc, seed, seed_len);
    randomx_dataset *theirs = randomx_alloc_dataset(RANDOMX_FLAG_DEFAULT);
    assert_non_null(theirs);

    range rs[207];
    size_t n = sample(rs, sizeof rs / sizeof rs[0]);
    size_t size;
    const uint8_t *a = cm_rx_dataset_memory(ours, &size);
    const uint8_t *b = randomx_get_dataset_memory(theirs);
    unsigned long checked = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cm_rx_dataset_init_range(ours, c, rs[i].start, rs[i].count), CM_OK);
        randomx_init_dataset(theirs, rc, rs[i].start, rs[i].count);
        for (unsigned long k = 0; k < rs[i].count; k++) {
            size_t off = (size_t)(rs[i].start + k) * RANDOMX_DATASET_ITEM_SIZE;
            if (memcmp(a + off, b + off, RANDOMX_DATASET_ITEM_SIZE) != 0)
                fail_msg("item %lu differs (range %lu+%lu)", rs[i].start + k, rs[i].start,
                         rs[i].count);
            checked++;
        }
    }
    assert_true(checked > 10000);
    randomx_release_dataset(theirs);
    randomx_release_cache(rc);
    cm_rx_dataset_free(ours);
    cm_rx_cache_free(c);
}

static void test_items_match_randomx_key000(void **state)
{
    (void)state;
    check_seed((const uint8_t *)"test key 000", 12);
}

static void test_items_match_randomx_seed32(void **state)
{
    (void)state;
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0x5a ^ i);
    check_seed(seed, sizeof seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_match_randomx_key000),
        cmocka_unit_test(test_items_match_randomx_seed32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

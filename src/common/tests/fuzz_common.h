/*
 * fuzz_common.h: fuzz entries of src/common's decoders (fuzz_common.c).
 */
#ifndef D_FUZZ_COMMON_H
#define D_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Decode @size bytes as a pool map; aborts on any misbehaviour. Returns 0. */
int common_fuzz_pool_map(const uint8_t *data, size_t size);

/* Parse @size bytes as a property string; aborts on any misbehaviour. Returns 0. */
int common_fuzz_prop_str(const uint8_t *data, size_t size);

/* Inputs (as given or fixed up) that decoded or parsed, and were checked. */
extern unsigned long common_fuzz_decoded;

#endif /* D_FUZZ_COMMON_H */

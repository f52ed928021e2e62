/* SPDX-License-Identifier: Apache-2.0 */
/* The mnn self-check as firmware: prints the result line the host compares with its own run
 * of the same check, and exits 1 when an optimised variant disagrees with the reference. */
#include "mcusim.h"
#include "mnn_selfcheck.h"

#ifndef SELFCHECK_SEED
#define SELFCHECK_SEED 20261122u
#endif
#ifndef SELFCHECK_CASES
#define SELFCHECK_CASES 140
#endif

static char *put_dec(char *p, int32_t v) {
    char digits[12];
    int n = 0;
    uint32_t u = v < 0 ? (uint32_t)(-(int64_t)v) : (uint32_t)v;
    if (v < 0) {
        *p++ = '-';
    }
    do {
        digits[n++] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u);
    while (n) {
        *p++ = digits[--n];
    }
    return p;
}

static char *put_str(char *p, const char *s) {
    while (*s) {
        *p++ = *s++;
    }
    return p;
}

int main(void) {
    const mnn_selfcheck_result r = mnn_selfcheck(SELFCHECK_SEED, SELFCHECK_CASES);
    char line[96];
    char *p = put_str(line, "mnn selfcheck: hash ");
    for (int i = 7; i >= 0; i--) {
        *p++ = "0123456789abcdef"[(r.hash >> (4 * i)) & 0xFu];
    }
    p = put_str(p, " cases ");
    p = put_dec(p, r.cases);
    p = put_str(p, " mismatches ");
    p = put_dec(p, r.mismatches);
    p = put_str(p, " first_bad ");
    p = put_dec(p, r.first_bad);
    *p++ = '\n';
    *p = 0;
    mcusim_sh_puts(line);
    return r.mismatches ? 1 : 0;
}

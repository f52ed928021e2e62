/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An integer workload mix for checking the cycle model against published per-MHz scores:
 * sorting, CRC-32, a small matrix multiply, a state machine over text, and linked-list
 * traversal, in the proportions of typical control code. Prints a checksum and the cycles
 * of ITERATIONS rounds, measured with the simulator's clock (semihosting SYS_ELAPSED).
 */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

#ifndef ITERATIONS
#define ITERATIONS 20
#endif

static uint64_t elapsed(void) {
    uint32_t t[2];
    mcusim_semihost(0x30, t);
    return (uint64_t)t[1] << 32 | t[0];
}

static uint32_t seed = 1;
static uint32_t next_random(void) {
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

#define SORT_N 64
static int16_t sort_buf[SORT_N];

__attribute__((noinline)) static uint32_t sort_round(void) {
    for (int i = 0; i < SORT_N; i++) {
        sort_buf[i] = (int16_t)next_random();
    }
    for (int i = 1; i < SORT_N; i++) {
        int16_t v = sort_buf[i];
        int j = i - 1;
        while (j >= 0 && sort_buf[j] > v) {
            sort_buf[j + 1] = sort_buf[j];
            j--;
        }
        sort_buf[j + 1] = v;
    }
    return (uint32_t)sort_buf[0] ^ (uint32_t)sort_buf[SORT_N - 1];
}

__attribute__((noinline)) static uint32_t crc32_round(const uint8_t *p, int n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (int i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

#define MAT_N 8
static int16_t ma[MAT_N][MAT_N], mb[MAT_N][MAT_N];
static int32_t mc[MAT_N][MAT_N];

__attribute__((noinline)) static uint32_t matrix_round(void) {
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            int32_t acc = 0;
            for (int k = 0; k < MAT_N; k++) {
                acc += ma[i][k] * mb[k][j];
            }
            mc[i][j] = acc;
        }
    }
    return (uint32_t)mc[MAT_N - 1][MAT_N - 1];
}

static const char text[] = "12,-3.5e7,abc,+17,0.25,9e-2,x1,42,-0.5,1e+9,..,7";

__attribute__((noinline)) static uint32_t state_round(void) {
    enum { START, SIGN, INT, FRAC, EXP, EXPSIGN, EXPINT, BAD } s = START;
    uint32_t counts[8] = {0};
    for (const char *c = text;; c++) {
        char ch = *c;
        if (ch == ',' || ch == 0) {
            counts[s]++;
            s = START;
            if (ch == 0) {
                break;
            }
            continue;
        }
        int digit = ch >= '0' && ch <= '9';
        switch (s) {
        case START: s = digit ? INT : (ch == '+' || ch == '-') ? SIGN : ch == '.' ? FRAC : BAD; break;
        case SIGN: s = digit ? INT : ch == '.' ? FRAC : BAD; break;
        case INT: s = digit ? INT : ch == '.' ? FRAC : (ch == 'e' || ch == 'E') ? EXP : BAD; break;
        case FRAC: s = digit ? FRAC : (ch == 'e' || ch == 'E') ? EXP : BAD; break;
        case EXP: s = (ch == '+' || ch == '-') ? EXPSIGN : digit ? EXPINT : BAD; break;
        case EXPSIGN: s = digit ? EXPINT : BAD; break;
        case EXPINT: s = digit ? EXPINT : BAD; break;
        default: break;
        }
    }
    uint32_t h = 0;
    for (int i = 0; i < 8; i++) {
        h = h * 31u + counts[i];
    }
    return h;
}

struct node {
    struct node *next;
    int32_t value;
};
#define LIST_N 48
static struct node nodes[LIST_N];

__attribute__((noinline)) static uint32_t list_round(void) {
    /* Relink in a scrambled order, then walk and reverse. */
    int order = (int)(next_random() % LIST_N) | 1;
    struct node *head = 0;
    for (int i = 0; i < LIST_N; i++) {
        struct node *n = &nodes[(i * order) % LIST_N];
        n->next = head;
        head = n;
    }
    int32_t sum = 0;
    struct node *prev = 0;
    while (head) {
        sum += head->value;
        struct node *next = head->next;
        head->next = prev;
        prev = head;
        head = next;
    }
    return (uint32_t)sum;
}

int main(void) {
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            ma[i][j] = (int16_t)(i * 3 - j);
            mb[i][j] = (int16_t)(j * 5 - i);
        }
    }
    for (int i = 0; i < LIST_N; i++) {
        nodes[i].value = i * 7 - 100;
    }
    uint32_t check = 0;
    uint64_t t0 = elapsed();
#if defined(INTMIX_LAYER)
    /* The whole workload as one layer, for the profiler's per-layer figures. */
    static const mcusim_layer_info all = {0, "INTMIX", "intmix", 0};
    mcusim_layer_begin(&all);
#endif
    for (int r = 0; r < ITERATIONS; r++) {
        check += sort_round();
        check ^= crc32_round((const uint8_t *)sort_buf, sizeof sort_buf);
        check += matrix_round();
        check ^= state_round();
        check += list_round();
    }
#if defined(INTMIX_LAYER)
    mcusim_layer_end(&all);
#endif
    uint64_t t1 = elapsed();
    printf("check %08lx cycles %lu\n", (unsigned long)check, (unsigned long)(t1 - t0));
    return 0;
}

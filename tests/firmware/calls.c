/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every way a Thumb-2 function returns that the profiler's shadow call stack must follow,
 * each found in real firmware (libgcc's double-precision routines, TFLite Micro, newlib):
 * a conditional BL in an IT block that is not taken, a conditional POP {pc} in an IT block,
 * LDR pc, [sp], #4, a tail call (B.W to another function), a return through BX of a
 * reloaded register, a helper that returns past its call site (as __gnu_thumb1_case_uqi
 * does), longjmp out of a recursion, and a SysTick interrupt firing every few dozen cycles, at
 * return addresses among other places. Each pattern runs inside a function named like a
 * CMSIS-NN kernel (arm_calls_*_s8), so each is a layer of its own.
 *
 * `leaf` counts its calls; the firmware prints the count, the SysTick count and a checksum,
 * which the test compares with the profile's call counts. Thumb-2 only (IT, B.W, LDR.W).
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

#define ROUNDS 50

volatile uint32_t leaf_calls, ticks;

__attribute__((noinline)) uint32_t leaf(uint32_t x) {
    leaf_calls++;
    return x * 3u + 1u;
}

void SysTick_Handler(void) {
    ticks++;
    (void)leaf(ticks);
}

/* A conditional call not taken unless x is 0, then a conditional return. */
__attribute__((naked, noinline)) uint32_t cond_call(uint32_t x) {
    __asm__ volatile(
        ".syntax unified\n"
        "push {r4, lr}\n"
        "cmp r0, #0\n"
        "it eq\n"
        "bleq leaf\n"
        "adds r0, r0, #1\n"
        "cmp r0, #100\n"
        "it hi\n"
        "pophi {r4, pc}\n"
        "adds r0, r0, #2\n"
        "pop {r4, pc}\n");
}

/* Returns with LDR pc, [sp], #4. */
__attribute__((naked, noinline)) uint32_t ldr_pc_return(uint32_t x) {
    __asm__ volatile(
        ".syntax unified\n"
        "str lr, [sp, #-4]!\n"
        "sub sp, sp, #4\n"
        "bl leaf\n"
        "add sp, sp, #4\n"
        "ldr pc, [sp], #4\n");
}

/* A tail call: the callee returns to this function's caller. */
__attribute__((naked, noinline)) uint32_t tail_call(uint32_t x) {
    __asm__ volatile(
        ".syntax unified\n"
        "adds r0, r0, #5\n"
        "b.w leaf\n");
}

/* Returns through BX of a register reloaded from the stack. */
__attribute__((naked, noinline)) uint32_t bx_reloaded(uint32_t x) {
    __asm__ volatile(
        ".syntax unified\n"
        "push {r4, lr}\n"
        "bl leaf\n"
        "ldr r4, [sp], #4\n"
        "ldr r3, [sp], #4\n"
        "bx r3\n");
}

/* Returns two bytes past its call site, skipping the 16-bit instruction after the BL. */
__attribute__((naked, noinline)) void skip_next(void) {
    __asm__ volatile(
        ".syntax unified\n"
        "adds lr, lr, #2\n"
        "bx lr\n");
}

__attribute__((naked, noinline)) uint32_t case_table(uint32_t x) {
    __asm__ volatile(
        ".syntax unified\n"
        "push {r4, lr}\n"
        "bl skip_next\n"
        "adds r0, #100\n"
        "adds r0, #1\n"
        "pop {r4, pc}\n");
}

static jmp_buf env;

__attribute__((noinline)) void deep(uint32_t n) {
    if (n == 0) {
        longjmp(env, 1);
    }
    deep(leaf(n) > 0 ? n - 1 : n);
}

/* The layers: one per pattern. */
__attribute__((noinline)) uint32_t arm_calls_cond_s8(uint32_t x) {
    for (int i = 0; i < ROUNDS; i++) {
        x += cond_call((uint32_t)i % 7u) + cond_call(200u);
    }
    return x;
}

__attribute__((noinline)) uint32_t arm_calls_ldr_pc_s8(uint32_t x) {
    for (int i = 0; i < ROUNDS; i++) {
        x += ldr_pc_return(x);
    }
    return x;
}

__attribute__((noinline)) uint32_t arm_calls_tail_s8(uint32_t x) {
    for (int i = 0; i < ROUNDS; i++) {
        x += tail_call(x);
    }
    return x;
}

__attribute__((noinline)) uint32_t arm_calls_bx_s8(uint32_t x) {
    for (int i = 0; i < ROUNDS; i++) {
        x += bx_reloaded(x);
    }
    return x;
}

__attribute__((noinline)) uint32_t arm_calls_case_s8(uint32_t x) {
    for (int i = 0; i < ROUNDS; i++) {
        x += case_table(x);
    }
    return x;
}

__attribute__((noinline)) uint32_t arm_calls_longjmp_s8(uint32_t x) {
    for (int i = 0; i < ROUNDS / 10; i++) {
        if (setjmp(env) == 0) {
            deep(4);
        }
        x += 1;
    }
    return x;
}

int main(void) {
    /* SysTick every 97 cycles, interrupt on: it lands all over the patterns. */
    MCUSIM_SYST_RVR = 96u;
    MCUSIM_SYST_CVR = 0u;
    MCUSIM_SYST_CSR = 7u;
    uint32_t x = 1;
    x = arm_calls_cond_s8(x);
    x = arm_calls_ldr_pc_s8(x);
    x = arm_calls_tail_s8(x);
    x = arm_calls_bx_s8(x);
    x = arm_calls_case_s8(x);
    x = arm_calls_longjmp_s8(x);
    MCUSIM_SYST_CSR = 0u;
    /* A tick that fell due before the counter stopped is taken here, before the counts are
     * read. */
    mcusim_dsb();
    mcusim_isb();
    printf("calls leaf %u ticks %u sum %u\n", (unsigned)leaf_calls, (unsigned)ticks, (unsigned)x);
    return 0;
}

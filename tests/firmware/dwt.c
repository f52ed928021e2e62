/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cycle counter: CYCCNT read twice around a straight run of instructions, printed; and
 * SysTick's current value read the same way. On Armv6-M (no DWT cycle counter) only SysTick.
 */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

int main(void) {
    printf("cpuid %08lx\n", (unsigned long)MCUSIM_SCB_CPUID);
    MCUSIM_DEMCR |= 1u << 24; /* TRCENA */
    int has_cyccnt = (MCUSIM_DWT_CTRL & (1u << 25)) == 0;
#if !__ARM_ARCH_6M__
    if (has_cyccnt) {
        MCUSIM_DWT_CYCCNT = 0;
        MCUSIM_DWT_CTRL |= 1u; /* CYCCNTENA */
        uint32_t t0, t1;
        /* Two reads in one straight block: the difference is the cost of the first read and
         * the 50 NOPs, counted at the exact instructions that read. */
        __asm__ volatile(
            "ldr %0, [%2]\n"
            ".rept 50\n nop\n .endr\n"
            "ldr %1, [%2]\n"
            : "=&r"(t0), "=&r"(t1)
            : "r"(&MCUSIM_DWT_CYCCNT)
            : "memory");
        printf("cyccnt delta %lu\n", (unsigned long)(t1 - t0));
        printf("cyccnt nonzero %d\n", t0 != 0);
    }
#endif
    if (!has_cyccnt) {
        printf("no cycle counter\n");
    }
    MCUSIM_SYST_RVR = 0x00FFFFFFu;
    MCUSIM_SYST_CVR = 0;
    MCUSIM_SYST_CSR = 5u; /* enable, core clock, no interrupt */
    uint32_t v0, v1;
    __asm__ volatile(
        "ldr %0, [%2]\n"
        ".rept 20\n nop\n .endr\n"
        "ldr %1, [%2]\n"
        : "=&r"(v0), "=&r"(v1)
        : "r"(&MCUSIM_SYST_CVR)
        : "memory");
    printf("systick delta %lu\n", (unsigned long)(v0 - v1));

    /* Semihosting's clock is simulated time: centiseconds of cycles at the board clock. Spin
     * for more than 1/100 s first (at most 5 M cycles, on the 500 MHz board). */
    for (volatile uint32_t i = 0; i < 1500000u; i++) {
    }
    uint32_t cycles = has_cyccnt ? MCUSIM_DWT_CYCCNT : 0;
    int centis = mcusim_semihost(MCUSIM_SYS_CLOCK, 0);
    int seconds = mcusim_semihost(MCUSIM_SYS_TIME, 0);
    printf("cycles %lu clock %d time %d\n", (unsigned long)cycles, centis, seconds);

    /* ITM stimulus port 0, the way CMSIS's ITM_SendChar writes it. */
    const char *msg = "itm port 0\n";
    for (const char *c = msg; *c; c++) {
        if ((MCUSIM_REG(0xE0000E80u) & 1u) && (MCUSIM_REG(0xE0000E00u) & 1u)) {
            while ((MCUSIM_REG(0xE0000000u) & 1u) == 0) {
            }
            MCUSIM_ITM_PORT8(0) = (uint8_t)*c;
        }
    }
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* One fault, chosen at build time with -DFAULT_<KIND>. Reaching the end is a failure. */
#include <stdint.h>

#include "mcusim.h"

#if defined(FAULT_STACK_OVERFLOW)
/* Recursion with a large frame until the stack runs below the lowest RAM address. */
__attribute__((noinline)) static int deep(volatile int n) {
    volatile uint8_t frame[512];
    frame[0] = (uint8_t)n;
    return deep(n + 1) + frame[0];
}
#endif

#if defined(OWN_HANDLER) || defined(OWN_HANDLER_FAULTS)
/* A fault handler of the firmware's own, as firmware that logs its faults has: it reports
 * the fault status registers (Armv7-M and later), then exits with 7; with
 * -DOWN_HANDLER_FAULTS it faults itself, which locks the core up. */
#include <stdio.h>
void HardFault_Handler(void) {
#if defined(OWN_HANDLER_FAULTS)
    (void)*(volatile uint32_t *)0x60000004u;
#endif
#if __ARM_ARCH_6M__
    mcusim_sh_puts("handler: hard fault\n");
#else
    printf("handler: CFSR %08lx HFSR %08lx BFAR %08lx\n",
           (unsigned long)*(volatile uint32_t *)0xE000ED28u,
           (unsigned long)*(volatile uint32_t *)0xE000ED2Cu,
           (unsigned long)*(volatile uint32_t *)0xE000ED38u);
#endif
    mcusim_exit(7);
}
#endif

#if defined(OWN_BUSFAULT)
/* With -DOWN_BUSFAULT (and -DOWN_HANDLER) BusFault is enabled and its handler faults in turn:
 * a fault in a handler of its own priority cannot preempt it, so it escalates to HardFault
 * (HFSR.FORCED), whose handler reports and exits. */
void BusFault_Handler(void) {
    mcusim_sh_puts("handler: bus fault\n");
    (void)*(volatile uint32_t *)0x60000004u;
}
#endif

int main(void) {
#if defined(OWN_BUSFAULT)
    *(volatile uint32_t *)0xE000ED24u |= 1u << 17; /* SHCSR.BUSFAULTENA */
#endif
    mcusim_sh_puts("about to fault\n");
#if defined(FAULT_UNMAPPED_READ)
    (void)*(volatile uint32_t *)0x60000000u;
#elif defined(FAULT_UNMAPPED_WRITE)
    *(volatile uint32_t *)0x60000010u = 1;
#elif defined(FAULT_FLASH_WRITE)
    *(volatile uint32_t *)0x08000100u = 1;
#elif defined(FAULT_UNDEFINED)
    __asm__ volatile("udf #0");
#elif defined(FAULT_UNALIGNED)
    /* Unaligned on every core: any access on Armv6-M, an exclusive on the others. */
    static uint32_t words[2];
    volatile uint8_t *p = (volatile uint8_t *)words + 1;
    uint32_t v;
#if __ARM_ARCH_6M__
    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(p));
#else
    __asm__ volatile("ldrex %0, [%1]" : "=r"(v) : "r"(p));
#endif
#elif defined(FAULT_UNALIGNED_LDRD)
    /* LDRD must be word-aligned on Armv7-M and Armv8-M (a plain LDR need not be). */
    static uint32_t words[4];
    volatile uint8_t *p = (volatile uint8_t *)words + 2;
    uint32_t lo, hi, one;
    __asm__ volatile("ldr %0, [%1]" : "=r"(one) : "r"(p));
    __asm__ volatile("ldrd %0, %1, [%2]" : "=r"(lo), "=r"(hi) : "r"(p));
#elif defined(FAULT_UNALIGNED_LDRD_LATE)
    /* Aligned on the first pass, unaligned on the second (the base advances by 6 in between):
     * the check must follow the base register, not remember the first address. */
    static uint32_t words[8];
    const uint8_t *p = (const uint8_t *)words;
    uint32_t lo, hi;
    for (int i = 0; i < 3; i++) {
        __asm__ volatile("ldrd %0, %1, [%2]\n\tadds %2, #6" : "=&r"(lo), "=&r"(hi), "+l"(p)::"cc", "memory");
    }
#elif defined(FAULT_UNALIGNED_LDM)
    static uint32_t words[4];
    volatile uint8_t *p = (volatile uint8_t *)words + 2;
    __asm__ volatile("ldmia %0, {r2, r3}" ::"r"(p) : "r2", "r3", "memory");
#elif defined(FAULT_STACK_OVERFLOW)
    deep(0);
#elif defined(FAULT_EXEC_NONEXEC)
    void (*f)(void) = (void (*)(void))(MCUSIM_UART_BASE | 1u);
    f();
#elif defined(FAULT_BKPT)
    __asm__ volatile("bkpt #1");
#elif defined(FAULT_SEMIHOSTING)
    mcusim_semihost(0x99, 0);
#elif defined(FAULT_BAD_VECTOR)
    /* A vector table whose IRQ 0 entry is zero: taking IRQ 0 cannot work. */
    static uint32_t table[16 + 32] __attribute__((aligned(256)));
    for (int i = 0; i < 16; i++) {
        table[i] = ((const uint32_t *)MCUSIM_SCB_VTOR)[i];
    }
    MCUSIM_SCB_VTOR = (uint32_t)table;
    mcusim_nvic_enable(0);
    mcusim_nvic_pend(0);
    mcusim_isb();
#else
#error "choose a fault with -DFAULT_<KIND>"
#endif
    mcusim_sh_puts("no fault\n");
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start-up code for Cortex-M firmware built by mcusim: the vector table, the reset handler
 * (copy .data, zero .bss, enable the FPU, start the console, run main, exit with its result)
 * and default exception handlers. The linker script generated from the board file provides
 * the symbols used here.
 */
#include <string.h>

#include "mcusim.h"

extern uint32_t __StackTop;
extern uint32_t __data_load, __data_start, __data_end;
extern uint32_t __bss_start, __bss_end;
extern uint32_t __itcm_load, __itcm_start, __itcm_end;
extern void __libc_init_array(void);
int main(void);

void Reset_Handler(void);
void Default_Handler(void);
static void Irq_Dispatch(void);

#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")))
WEAK_HANDLER(NMI_Handler);
WEAK_HANDLER(HardFault_Handler);
WEAK_HANDLER(MemManage_Handler);
WEAK_HANDLER(BusFault_Handler);
WEAK_HANDLER(UsageFault_Handler);
WEAK_HANDLER(SVC_Handler);
WEAK_HANDLER(DebugMon_Handler);
WEAK_HANDLER(PendSV_Handler);
WEAK_HANDLER(SysTick_Handler);

typedef void (*vector_t)(void);

/* Exceptions 0-15 (Armv7-M ARM B1.5.2), then one entry per external interrupt. */
__attribute__((section(".isr_vector"), used)) const vector_t mcusim_vectors[16 + MCUSIM_IRQ_LINES] = {
    [0] = (vector_t)&__StackTop,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 ... 16 + MCUSIM_IRQ_LINES - 1] = Irq_Dispatch,
};

void Reset_Handler(void) {
    /* The loader placed .data's initial values in flash; RAM holds garbage until copied. */
    memcpy(&__data_start, &__data_load, (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start, 0, (size_t)((char *)&__bss_end - (char *)&__bss_start));
    /* Code placed in the instruction TCM (MCUSIM_ITCM) runs from there: copy it in. The range
     * is empty on boards without one. */
    memcpy(&__itcm_start, &__itcm_load, (size_t)((char *)&__itcm_end - (char *)&__itcm_start));
    MCUSIM_SCB_VTOR = (uint32_t)mcusim_vectors;
#if defined(__ARM_FP)
    /* CP10 and CP11 full access (Armv7-M ARM B3.2.20), before any floating-point code. */
    MCUSIM_SCB_CPACR |= 0xFu << 20;
    mcusim_dsb();
    mcusim_isb();
#endif
    mcusim_console_init();
    __libc_init_array();
    mcusim_exit(main());
}

static void Irq_Dispatch(void) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    mcusim_irq_handler((ipsr & 0x1FFu) - 16u);
}

__attribute__((weak)) void mcusim_irq_handler(unsigned irq) {
    (void)irq;
    mcusim_sh_puts("mcusim: unexpected interrupt\n");
    mcusim_exit(99);
}

/* An unexpected exception or fault: report it over semihosting and exit with code 98. */
void Default_Handler(void) {
    mcusim_sh_puts("mcusim: unexpected exception\n");
    mcusim_exit(98);
}

/* Called by __libc_init_array; nothing to do on bare metal. */
void _init(void) {}
void _fini(void) {}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exception model: SVC, PendSV, SysTick with WFI, a software-pended IRQ, nesting by
 * priority, thread mode on the process stack, the FPU context across an exception, the
 * console UART's own transmit interrupt, and a system reset through AIRCR.
 * Prints one line per check and exits with the number of failed checks.
 */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

#define TEST_IRQ 3u
#define NESTED_IRQ 4u

static volatile unsigned svc_count, svc_number, pendsv_count, systick_count, irq_count;
static volatile unsigned last_irq, nested_seen, uart_irq_count, order[4], order_len;
static int failures;

/* Survives the system reset: neither copied nor cleared by the start-up code. */
__attribute__((section(".noinit"))) static volatile uint32_t reset_magic;
#define RESET_MAGIC 0x5EB007EDu

static void check(const char *what, int ok) {
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

/* The SVC number is the low byte of the SVC instruction before the stacked return address. */
void SVC_Handler_C(uint32_t *frame) {
    svc_count++;
    svc_number = ((const uint8_t *)frame[6])[-2];
    /* Pend the lower-priority PendSV: it must wait until this handler returns. */
    MCUSIM_SCB_ICSR = 1u << 28;
    mcusim_dsb();
    mcusim_isb();
    order[order_len++] = 11;
#if defined(__ARM_FP)
    /* Clobber s0: the extended frame must restore the thread's value. */
    __asm__ volatile("vmov s0, %0" ::"r"(0x0badf00du) : "s0");
#endif
}

__attribute__((naked)) void SVC_Handler(void) {
    __asm__ volatile(
        "movs r0, #4\n"
        "mov r1, lr\n"
        "tst r0, r1\n"
        "beq 1f\n"
        "mrs r0, psp\n"
        "b SVC_Handler_C\n"
        "1: mrs r0, msp\n"
        "b SVC_Handler_C\n");
}

void PendSV_Handler(void) {
    pendsv_count++;
    order[order_len++] = 14;
    /* A higher-priority IRQ pended here preempts this handler (a nested exception). */
    mcusim_nvic_pend(NESTED_IRQ);
    mcusim_dsb();
    mcusim_isb();
    nested_seen = irq_count;
}

void SysTick_Handler(void) {
    systick_count++;
    if (systick_count == 3 || systick_count == 6) {
        MCUSIM_SYST_CSR = 0;
    }
}

#if defined(MCUSIM_UART_IRQ)
static void uart_tx_irq_enable(int on) {
#if defined(MCUSIM_UART_CMSDK)
    uint32_t ctrl = MCUSIM_REG(MCUSIM_UART_BASE + 0x08u);
    MCUSIM_REG(MCUSIM_UART_BASE + 0x08u) = on ? (ctrl | 4u) : (ctrl & ~4u);
    MCUSIM_REG(MCUSIM_UART_BASE + 0x0Cu) = 1u; /* INTCLEAR TX */
#else
    uint32_t cr1 = MCUSIM_REG(MCUSIM_UART_BASE + 0x00u);
    MCUSIM_REG(MCUSIM_UART_BASE + 0x00u) = on ? (cr1 | (1u << 7)) : (cr1 & ~(1u << 7));
#endif
}
#endif

void mcusim_irq_handler(unsigned irq) {
#if defined(MCUSIM_UART_IRQ)
    if (irq == MCUSIM_UART_IRQ) {
        uart_irq_count++;
        uart_tx_irq_enable(0);
        return;
    }
#endif
    irq_count++;
    last_irq = irq;
}

int main(void) {
    if (reset_magic == RESET_MAGIC) {
        reset_magic = 0;
        check("system reset", 1);
        printf("exceptions: %d failed\n", failures);
        return failures;
    }
    /* SVCall and PendSV at the lowest priorities, PendSV below SVCall. */
    MCUSIM_SCB_SHPR3 = 0xFFu << 16;
    MCUSIM_NVIC_IPR8(NESTED_IRQ) = 0x00u;
    MCUSIM_NVIC_IPR8(TEST_IRQ) = 0x40u;

    mcusim_nvic_enable(NESTED_IRQ);
    float keep = 1.5f;
#if defined(__ARM_FP)
    __asm__ volatile("vmov s0, %0" ::"r"(0x3fc00000u) : "s0"); /* 1.5f */
#endif
    __asm__ volatile("svc #42" ::: "memory");
#if defined(__ARM_FP)
    uint32_t s0;
    __asm__ volatile("vmov %0, s0" : "=r"(s0));
    check("fpu context survives an exception", s0 == 0x3fc00000u && keep == 1.5f);
#else
    check("fpu context survives an exception", keep == 1.5f);
#endif
    check("svc", svc_count == 1 && svc_number == 42);

    check("pendsv waits for svc, then runs", pendsv_count == 1 && order_len == 2 && order[0] == 11 && order[1] == 14);
    check("irq nests inside pendsv", nested_seen == 1 && last_irq == NESTED_IRQ);

    MCUSIM_SYST_RVR = 1000u - 1u;
    MCUSIM_SYST_CVR = 0;
    MCUSIM_SYST_CSR = 7u; /* enable, interrupt, core clock */
    while (systick_count < 3) {
        mcusim_wfi();
    }
    check("systick wakes wfi three times", systick_count == 3);

    /* WFE: woken by the event an exception sets; the loop tolerates early wake-ups. */
    MCUSIM_SYST_CVR = 0;
    MCUSIM_SYST_CSR = 7u;
    while (systick_count < 6) {
        __asm__ volatile("wfe" ::: "memory");
    }
    check("systick wakes wfe", systick_count == 6);

    mcusim_nvic_enable(TEST_IRQ);
    mcusim_nvic_pend(TEST_IRQ);
    mcusim_dsb();
    mcusim_isb();
    check("software-pended irq", irq_count == 2 && last_irq == TEST_IRQ);

    /* Masked by PRIMASK: pending, not taken, until interrupts are enabled again. */
    mcusim_disable_irq();
    mcusim_nvic_pend(TEST_IRQ);
    mcusim_isb();
    int masked = irq_count == 2;
    mcusim_enable_irq();
    mcusim_isb();
    check("primask defers an irq", masked && irq_count == 3);

#if defined(MCUSIM_UART_IRQ)
    mcusim_nvic_enable(MCUSIM_UART_IRQ);
    uart_tx_irq_enable(1);
    mcusim_console_putc('.');
    mcusim_console_putc('\n');
    for (int i = 0; i < 1000 && uart_irq_count == 0; i++) {
        mcusim_isb();
    }
    check("uart transmit interrupt", uart_irq_count >= 1);
#else
    check("uart transmit interrupt", 1);
#endif

    /* Thread mode on the process stack: SVC stacks on PSP and returns there. */
    static uint32_t process_stack[256] __attribute__((aligned(8)));
    uint32_t psp_top = (uint32_t)&process_stack[256];
    __asm__ volatile(
        "msr psp, %0\n"
        "movs r1, #2\n"
        "msr control, r1\n"
        "isb\n"
        "svc #7\n"
        "mrs r1, control\n"
        "movs r2, #0\n"
        "msr control, r2\n"
        "isb\n" ::"r"(psp_top)
        : "r1", "r2", "memory");
    check("svc from thread mode on the process stack", svc_count == 2 && svc_number == 7);

    printf("resetting\n");
    reset_magic = RESET_MAGIC;
    mcusim_system_reset();
}

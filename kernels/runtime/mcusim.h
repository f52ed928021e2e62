/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mcusim firmware runtime: console, semihosting, exit and the few Cortex-M system registers
 * test and model firmware needs. Works on real boards and under QEMU as well as in mcusim.
 *
 * The build includes "mcusim_board.h", generated from the board file, which defines:
 *   MCUSIM_BOARD_NAME     the board's name, a string
 *   MCUSIM_CLOCK_HZ       the core clock in Hz
 *   MCUSIM_IRQ_LINES      number of NVIC interrupt lines
 *   MCUSIM_UART_CMSDK or MCUSIM_UART_STM32, MCUSIM_UART_BASE, MCUSIM_UART_IRQ (when the board
 *                         has a console UART)
 */
#ifndef MCUSIM_H
#define MCUSIM_H

#include <stddef.h>
#include <stdint.h>

#include "mcusim_board.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Placement in tightly coupled memory (Cortex-M7 boards with ITCM and DTCM) ----
 * MCUSIM_ITCM on a function runs it from the instruction TCM (copied there at start-up: no
 * flash wait states, no cache misses); MCUSIM_DTCM on data places it in the data TCM. Where
 * the board has no such memory the code stays in flash and the data in RAM. */
#define MCUSIM_ITCM __attribute__((section(".itcm"), noinline))
#define MCUSIM_DTCM __attribute__((section(".dtcm")))

/* ---- Semihosting (Arm "Semihosting for AArch32 and AArch64", release 2.0) ---- */

#define MCUSIM_SYS_OPEN 0x01
#define MCUSIM_SYS_WRITEC 0x03
#define MCUSIM_SYS_WRITE0 0x04
#define MCUSIM_SYS_WRITE 0x05
#define MCUSIM_SYS_CLOCK 0x10
#define MCUSIM_SYS_TIME 0x11
#define MCUSIM_SYS_EXIT 0x18
#define MCUSIM_SYS_EXIT_EXTENDED 0x20
#define MCUSIM_ADP_STOPPED_APPLICATION_EXIT 0x20026

/* Issue a semihosting call: BKPT 0xAB with the operation in r0 and the argument in r1. */
static inline int mcusim_semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Write a NUL-terminated string to the host's standard output. */
void mcusim_sh_puts(const char *s);
/* Write bytes to the host's standard output (fd 1) or standard error (fd 2). */
void mcusim_sh_write(int fd, const void *buf, size_t len);
/* Exit the simulation (or QEMU) with this code. Does not return. */
void mcusim_exit(int code) __attribute__((noreturn));

/* ---- Console UART ---- */

/* Enable the board's console UART (called by the start-up code before main). */
void mcusim_console_init(void);
/* Send one byte through the console UART. */
void mcusim_console_putc(char c);
/* Send a string through the console UART. */
void mcusim_console_puts(const char *s);

/* ---- System control space (Armv7-M ARM B3.2) ---- */

#define MCUSIM_REG(addr) (*(volatile uint32_t *)(addr))
#define MCUSIM_SCB_ICSR MCUSIM_REG(0xE000ED04u)
#define MCUSIM_SCB_VTOR MCUSIM_REG(0xE000ED08u)
#define MCUSIM_SCB_AIRCR MCUSIM_REG(0xE000ED0Cu)
#define MCUSIM_SCB_SCR MCUSIM_REG(0xE000ED10u)
#define MCUSIM_SCB_SHPR3 MCUSIM_REG(0xE000ED20u)
#define MCUSIM_SCB_CPACR MCUSIM_REG(0xE000ED88u)
#define MCUSIM_SCB_CPUID MCUSIM_REG(0xE000ED00u)
#define MCUSIM_SYST_CSR MCUSIM_REG(0xE000E010u)
#define MCUSIM_SYST_RVR MCUSIM_REG(0xE000E014u)
#define MCUSIM_SYST_CVR MCUSIM_REG(0xE000E018u)
#define MCUSIM_NVIC_ISER(n) MCUSIM_REG(0xE000E100u + 4u * (n))
#define MCUSIM_NVIC_ISPR(n) MCUSIM_REG(0xE000E200u + 4u * (n))
#define MCUSIM_NVIC_IPR8(n) (*(volatile uint8_t *)(0xE000E400u + (n)))
#define MCUSIM_DEMCR MCUSIM_REG(0xE000EDFCu)
#define MCUSIM_DWT_CTRL MCUSIM_REG(0xE0001000u)
#define MCUSIM_DWT_CYCCNT MCUSIM_REG(0xE0001004u)
#define MCUSIM_ITM_PORT8(n) (*(volatile uint8_t *)(0xE0000000u + 4u * (n)))

static inline void mcusim_isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void mcusim_dsb(void) { __asm__ volatile("dsb" ::: "memory"); }
static inline void mcusim_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void mcusim_enable_irq(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void mcusim_disable_irq(void) { __asm__ volatile("cpsid i" ::: "memory"); }

/* Enable an interrupt line in the NVIC. */
static inline void mcusim_nvic_enable(unsigned irq) { MCUSIM_NVIC_ISER(irq / 32u) = 1u << (irq % 32u); }
/* Make an interrupt line pending by software. */
static inline void mcusim_nvic_pend(unsigned irq) { MCUSIM_NVIC_ISPR(irq / 32u) = 1u << (irq % 32u); }

/* Request a system reset through AIRCR.SYSRESETREQ. Does not return. */
void mcusim_system_reset(void) __attribute__((noreturn));

/* ---- Layer markers ----
 * Model firmware calls these around every layer. They are real calls (never inlined) to
 * functions whose addresses the simulator can find by symbol, so a profiler can attribute
 * cycles to layers without changing the firmware's timing beyond a call and a return. Weak:
 * firmware may define its own (e.g. to time layers with the DWT cycle counter). */
typedef struct {
    uint32_t index;   /* the operator's index in the model */
    const char *op;   /* the TFLite operator, e.g. "CONV_2D" */
    const char *name; /* the layer's name (its output tensor's) */
    uint32_t macs;    /* multiply-accumulates of one inference */
} mcusim_layer_info;

void mcusim_layer_begin(const mcusim_layer_info *layer);
void mcusim_layer_end(const mcusim_layer_info *layer);
/* Around one whole inference (model firmware's main). */
void mcusim_inference_begin(void);
void mcusim_inference_end(void);
/* Streaming firmware calls this when a window of `samples` new samples is ready for an
 * inference: the profile's real-time margin is measured against `samples` / the stream's
 * rate. */
void mcusim_window(uint32_t samples);

/* Called for every external interrupt with its number (IRQ 0 = exception 16). Weak: firmware
 * overrides it. The default stops the run with exit code 99. */
void mcusim_irq_handler(unsigned irq);

#ifdef __cplusplus
}
#endif

#endif /* MCUSIM_H */

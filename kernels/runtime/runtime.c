/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Console, semihosting and the newlib system calls for firmware built by mcusim. printf and
 * puts go to the console UART; write(2, ...) goes to the host's stderr through semihosting.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mcusim.h"

void mcusim_sh_puts(const char *s) { mcusim_semihost(MCUSIM_SYS_WRITE0, s); }

/* Semihosting handles of the host's stdout and stderr: SYS_OPEN of ":tt" for writing (mode 4)
 * or appending (mode 8), done once, as the specification's SH_EXT_STDOUT_STDERR describes. */
static int sh_handles[3] = {-1, -1, -1};

void mcusim_sh_write(int fd, const void *buf, size_t len) {
    int which = fd == 2 ? 2 : 1;
    if (sh_handles[which] < 0) {
        uint32_t open_block[3] = {(uint32_t)":tt", which == 2 ? 8u : 4u, 3u};
        sh_handles[which] = mcusim_semihost(MCUSIM_SYS_OPEN, open_block);
    }
    uint32_t block[3] = {(uint32_t)sh_handles[which], (uint32_t)buf, (uint32_t)len};
    mcusim_semihost(MCUSIM_SYS_WRITE, block);
}

void mcusim_exit(int code) {
    /* SYS_EXIT_EXTENDED carries the exit code on AArch32 (SYS_EXIT only success/failure). */
    uint32_t block[2] = {MCUSIM_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    for (;;) {
        mcusim_semihost(MCUSIM_SYS_EXIT_EXTENDED, block);
    }
}

void mcusim_system_reset(void) {
    mcusim_dsb();
    /* VECTKEY 0x05FA, SYSRESETREQ (Armv7-M ARM B3.2.6). */
    MCUSIM_SCB_AIRCR = 0x05FA0004u;
    mcusim_dsb();
    for (;;) {
    }
}

#if defined(MCUSIM_UART_CMSDK)
/* Arm CMSDK APB UART (DDI 0479C 4.2): DATA 0x0, STATE 0x4, CTRL 0x8, BAUDDIV 0x10. */
void mcusim_console_init(void) {
    MCUSIM_REG(MCUSIM_UART_BASE + 0x10u) = 16u; /* the smallest valid divider */
    MCUSIM_REG(MCUSIM_UART_BASE + 0x08u) = 1u;  /* TX enable */
}
void mcusim_console_putc(char c) {
    while (MCUSIM_REG(MCUSIM_UART_BASE + 0x04u) & 1u) { /* TX buffer full */
    }
    MCUSIM_REG(MCUSIM_UART_BASE + 0x00u) = (uint8_t)c;
}
#elif defined(MCUSIM_UART_STM32)
/* STM32 USART/LPUART (RM0432 50.8): CR1 0x00, BRR 0x0C, ISR 0x1C, TDR 0x28. */
void mcusim_console_init(void) {
    MCUSIM_REG(MCUSIM_UART_BASE + 0x0Cu) = MCUSIM_CLOCK_HZ / 115200u;
    MCUSIM_REG(MCUSIM_UART_BASE + 0x00u) = (1u << 3) | 1u; /* TE | UE */
}
void mcusim_console_putc(char c) {
    while (!(MCUSIM_REG(MCUSIM_UART_BASE + 0x1Cu) & (1u << 7))) { /* TXE */
    }
    MCUSIM_REG(MCUSIM_UART_BASE + 0x28u) = (uint8_t)c;
}
#else
/* No console UART on this board: console output goes to semihosting. */
void mcusim_console_init(void) {}
void mcusim_console_putc(char c) { mcusim_semihost(MCUSIM_SYS_WRITEC, &c); }
#endif

void mcusim_console_puts(const char *s) {
    while (*s) {
        mcusim_console_putc(*s++);
    }
}

/* ---- newlib system calls ---- */

extern char __heap_start, __heap_limit;
/* The heap's break and the highest it has been: the profiler reads them (heap high-water,
 * and where the stack scan starts). */
char *mcusim_heap_end = &__heap_start;
char *mcusim_heap_peak = &__heap_start;

void *_sbrk(ptrdiff_t incr) {
    char *prev = mcusim_heap_end;
    if (incr > &__heap_limit - mcusim_heap_end || incr < &__heap_start - mcusim_heap_end) {
        errno = ENOMEM;
        return (void *)-1;
    }
    mcusim_heap_end += incr;
    if (mcusim_heap_end > mcusim_heap_peak) {
        mcusim_heap_peak = mcusim_heap_end;
    }
    return prev;
}

int _write(int fd, const char *buf, int len) {
    if (fd == 2) {
        mcusim_sh_write(2, buf, (size_t)len);
    } else {
        for (int i = 0; i < len; i++) {
            mcusim_console_putc(buf[i]);
        }
    }
    return len;
}

int _read(int fd, char *buf, int len) {
    (void)fd;
    (void)buf;
    (void)len;
    return 0;
}

int _close(int fd) {
    (void)fd;
    return -1;
}

int _fstat(int fd, struct stat *st) {
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd) {
    (void)fd;
    return 1;
}

int _lseek(int fd, int offset, int whence) {
    (void)fd;
    (void)offset;
    (void)whence;
    return 0;
}

void _exit(int code) { mcusim_exit(code); }

int _kill(int pid, int sig) {
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

int _getpid(void) { return 1; }

__attribute__((weak, noinline)) void mcusim_layer_begin(const mcusim_layer_info *layer) {
    __asm__ volatile("" : : "r"(layer) : "memory");
}

__attribute__((weak, noinline)) void mcusim_layer_end(const mcusim_layer_info *layer) {
    __asm__ volatile("" : : "r"(layer) : "memory");
}

__attribute__((weak, noinline)) void mcusim_inference_begin(void) { __asm__ volatile("" ::: "memory"); }

__attribute__((weak, noinline)) void mcusim_inference_end(void) { __asm__ volatile("" ::: "memory"); }

__attribute__((weak, noinline)) void mcusim_window(uint32_t samples) {
    __asm__ volatile("" : : "r"(samples) : "memory");
}

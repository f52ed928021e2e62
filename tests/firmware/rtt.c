/* SPDX-License-Identifier: Apache-2.0 */
/* SEGGER RTT as SEGGER's SEGGER_RTT.c lays it out: a control block `_SEGGER_RTT` with the id
 * "SEGGER RTT", two up buffers (0 "Terminal", 1 "Log") and one down buffer, in blocking mode
 * (SEGGER_RTT_MODE_BLOCK_IF_FIFO_FULL): a write into a full buffer waits for the probe to read.
 * The buffers are small (32 and 16 bytes), so the 300-byte message below only gets through if
 * the host drains as it goes. The id is written last, in two halves, as SEGGER's init does so a
 * probe scanning RAM never finds a half-made block. Exits with 0. */
#include <stdint.h>
#include <string.h>

#include "mcusim.h"

typedef struct {
    const char *name;
    char *buffer;
    unsigned size;
    volatile unsigned wr;
    volatile unsigned rd;
    unsigned flags;
} rtt_buffer;

typedef struct {
    char id[16];
    int max_up;
    int max_down;
    rtt_buffer up[2];
    rtt_buffer down[1];
} rtt_control_block;

rtt_control_block _SEGGER_RTT;
static char up0[32], up1[16], down0[16];

#define BLOCK_IF_FULL 2u

static void rtt_init(void) {
    rtt_control_block *cb = &_SEGGER_RTT;
    cb->max_up = 2;
    cb->max_down = 1;
    cb->up[0] = (rtt_buffer){"Terminal", up0, sizeof up0, 0, 0, BLOCK_IF_FULL};
    cb->up[1] = (rtt_buffer){"Log", up1, sizeof up1, 0, 0, BLOCK_IF_FULL};
    cb->down[0] = (rtt_buffer){"Terminal", down0, sizeof down0, 0, 0, 0};
    memcpy(&cb->id[7], "RTT", 4);
    __asm volatile("dmb" ::: "memory");
    memcpy(&cb->id[0], "SEGGER ", 7);
}

/* SEGGER_RTT_Write in blocking mode: one byte at a time, waiting while the buffer is full. */
static void rtt_write(unsigned channel, const char *data, unsigned n) {
    rtt_buffer *b = &_SEGGER_RTT.up[channel];
    unsigned wr = b->wr;
    for (unsigned i = 0; i < n; i++) {
        unsigned next = wr + 1 == b->size ? 0 : wr + 1;
        while (next == b->rd) {
        }
        b->buffer[wr] = data[i];
        wr = next;
        __asm volatile("dmb" ::: "memory");
        b->wr = wr;
    }
}

static void rtt_puts(unsigned channel, const char *s) { rtt_write(channel, s, strlen(s)); }

int main(void) {
    rtt_init();
    rtt_puts(0, "hello over RTT\n");
    rtt_puts(1, "a log line\n");
    char long_line[301];
    for (int i = 0; i < 300; i++) {
        long_line[i] = (char)('a' + i % 26);
    }
    long_line[299] = '\n';
    rtt_write(0, long_line, 300);
    rtt_puts(1, "second log line\n");
    rtt_puts(0, "done\n");
    return 0;
}

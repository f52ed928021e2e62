/* SPDX-License-Identifier: Apache-2.0 */
/* Semihosting file calls: reads in.txt, writes it upper-cased to out.txt, and tries to open
 * files outside the folder it was given (an absolute path, a `..`), which must fail. Prints
 * what each call returned. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mcusim.h"

static int sh_open(const char *name, int mode) {
    uint32_t block[3] = {(uint32_t)name, (uint32_t)mode, (uint32_t)strlen(name)};
    return mcusim_semihost(0x01, block);
}

static int sh_rw(int op, int handle, void *buf, unsigned len) {
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)buf, len};
    return mcusim_semihost(op, block);
}

static int sh_close(int handle) {
    uint32_t block[1] = {(uint32_t)handle};
    return mcusim_semihost(0x02, block);
}

int main(void) {
    char buf[64];
    memset(buf, 0, sizeof buf);
    int in = sh_open("in.txt", 0);
    int left = in < 0 ? -1 : sh_rw(0x06, in, buf, sizeof buf - 1);
    int n = left < 0 ? 0 : (int)(sizeof buf - 1) - left;
    for (int i = 0; i < n; i++) {
        if (buf[i] >= 'a' && buf[i] <= 'z') {
            buf[i] = (char)(buf[i] - 'a' + 'A');
        }
    }
    int out = sh_open("out.txt", 4);
    int unwritten = out < 0 ? -1 : sh_rw(0x05, out, buf, (unsigned)n);
    printf("files: in %s, read %d, out %s, unwritten %d\n", in < 0 ? "refused" : "open", n,
           out < 0 ? "refused" : "open", unwritten);
    printf("files: absolute %s, parent %s\n", sh_open("/tmp/mcusim-escape.txt", 4) < 0 ? "refused" : "OPEN",
           sh_open("../mcusim-escape.txt", 4) < 0 ? "refused" : "OPEN");
    if (in >= 0) {
        sh_close(in);
    }
    if (out >= 0) {
        sh_close(out);
    }
    return 0;
}

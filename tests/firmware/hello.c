/* SPDX-License-Identifier: Apache-2.0 */
/* Console output through every path mcusim forwards: semihosting, the console UART (printf),
 * and, last, the host's stderr. Exits with 0. */
#include <stdio.h>

#include "mcusim.h"

int main(void) {
    mcusim_sh_puts("hello from " MCUSIM_BOARD_NAME " over semihosting\n");
    printf("hello from %s over the UART, %d + %d = %d\n", MCUSIM_BOARD_NAME, 2, 3, 2 + 3);
    mcusim_semihost(MCUSIM_SYS_WRITEC, "!");
    mcusim_sh_write(1, "\nsemihosting SYS_WRITE to stdout\n", 33);
    mcusim_sh_write(2, "a line for stderr\n", 18);
    return 0;
}

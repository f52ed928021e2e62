/* SPDX-License-Identifier: Apache-2.0 */
/* Exits with a non-zero code through main's return value. */
#include "mcusim.h"

int main(void) {
    mcusim_sh_puts("exiting with 3\n");
    return 3;
}

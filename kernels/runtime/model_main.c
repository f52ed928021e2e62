/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The entry point of model firmware built by `mcusim compile`: one inference of the generated
 * model (mcusim_model.c) on mcusim_model_input_data, outputs stored in
 * mcusim_model_output_data. The inference runs between mcusim_inference_begin and
 * mcusim_inference_end, the layers between their layer markers, so a profiler sees start-up,
 * inference and each layer apart. Exit code 0, or 3 when a layer's scratch does not fit, or 4
 * when a kernel refused its arguments.
 */
#include <string.h>

#include "mcusim.h"
#include "mcusim_model.h"

int main(void) {
    const int init = mcusim_model_init();
    if (init) {
        mcusim_sh_puts("mcusim model: a layer's scratch is larger than planned\n");
        return 3;
    }
    mcusim_model_load_input();
    mcusim_inference_begin();
    const int status = mcusim_model_run();
    mcusim_inference_end();
    if (status) {
        mcusim_sh_puts("mcusim model: a kernel refused its arguments\n");
        return 4;
    }
    mcusim_model_store_output();
    return 0;
}

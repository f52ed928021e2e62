/* SPDX-License-Identifier: Apache-2.0 */
/* RESHAPE in a named namespace (tflite::ops::micro::reshape::Eval), calling no kernel. */
#include "../tflm_like.h"

namespace tflite {
namespace ops {
namespace micro {
namespace reshape {

TfLiteStatus Eval(TfLiteContext *context, TfLiteNode *node) {
    for (int i = 0; i < node->size; i++) {
        context->arena[node->out + i] = context->arena[node->in + i];
    }
    return kTfLiteOk;
}

} // namespace reshape
} // namespace micro
} // namespace ops

TfLiteRegistration Register_RESHAPE() { return {ops::micro::reshape::Eval, "RESHAPE"}; }

} // namespace tflite

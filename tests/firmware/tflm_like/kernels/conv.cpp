/* SPDX-License-Identifier: Apache-2.0 */
/* CONV_2D as TensorFlow Lite Micro lays it out: Eval in an anonymous namespace, one per file. */
#include "../tflm_like.h"

namespace tflite {
namespace {

TfLiteStatus Eval(TfLiteContext *context, TfLiteNode *node) {
    int32_t sum = arm_convolve_s8(context->arena + node->in, context->arena + node->out, node->size);
    return sum == INT32_MIN ? kTfLiteError : kTfLiteOk;
}

} // namespace

TfLiteRegistration Register_CONV_2D() { return {Eval, "CONV_2D"}; }

} // namespace tflite

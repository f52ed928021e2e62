/* SPDX-License-Identifier: Apache-2.0 */
/* SOFTMAX: its invoke function is SoftmaxEval, as in TensorFlow Lite Micro. */
#include "../tflm_like.h"

namespace tflite {
namespace {

TfLiteStatus SoftmaxEval(TfLiteContext *context, TfLiteNode *node) {
    arm_softmax_s8(context->arena + node->in, context->arena + node->out, node->size);
    return kTfLiteOk;
}

} // namespace

TfLiteRegistration Register_SOFTMAX() { return {SoftmaxEval, "SOFTMAX"}; }

} // namespace tflite

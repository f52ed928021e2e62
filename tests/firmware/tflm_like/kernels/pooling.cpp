/* SPDX-License-Identifier: Apache-2.0 */
/* Pools as TensorFlow Lite Micro lays them out: AverageEval and MaxEval in one file. */
#include "../tflm_like.h"

namespace tflite {
namespace {

TfLiteStatus AverageEval(TfLiteContext *context, TfLiteNode *node) {
    arm_avgpool_s8(context->arena + node->in, context->arena + node->out, node->size);
    return kTfLiteOk;
}

} // namespace

TfLiteRegistration Register_AVERAGE_POOL_2D() { return {AverageEval, "AVERAGE_POOL_2D"}; }

} // namespace tflite

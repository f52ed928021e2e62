/* SPDX-License-Identifier: Apache-2.0 */
/* The interpreter: Prepare (scales in double precision), then Invoke, one operator after
 * another through its registration's invoke pointer. Prints a checksum, exits with 0. */
#include <stdio.h>

#include "tflm_like.h"

namespace tflite {

class MicroInterpreter {
  public:
    MicroInterpreter(const TfLiteRegistration *ops, TfLiteNode *nodes, int count,
                     TfLiteContext *context)
        : ops_(ops), nodes_(nodes), count_(count), context_(context) {}
    TfLiteStatus Prepare();
    TfLiteStatus Invoke();

  private:
    const TfLiteRegistration *ops_;
    TfLiteNode *nodes_;
    int count_;
    TfLiteContext *context_;
};

/* As TFLite Micro's kernels do in Prepare: real multipliers from the tensors' scales. */
__attribute__((noinline)) TfLiteStatus MicroInterpreter::Prepare() {
    volatile double input_scale = 0.0235, filter_scale = 0.0041, output_scale = 0.0917;
    for (int i = 0; i < count_; i++) {
        nodes_[i].scale = input_scale * filter_scale / output_scale * (i + 1);
    }
    return kTfLiteOk;
}

__attribute__((noinline)) TfLiteStatus MicroInterpreter::Invoke() {
    for (int i = 0; i < count_; i++) {
        if (ops_[i].invoke(context_, &nodes_[i]) != kTfLiteOk) {
            return kTfLiteError;
        }
    }
    return kTfLiteOk;
}

} // namespace tflite

alignas(16) static int8_t tensor_arena[4096];

int main() {
    const tflite::TfLiteRegistration ops[] = {
        tflite::Register_CONV_2D(),        tflite::Register_DEPTHWISE_CONV_2D(),
        tflite::Register_CONV_2D(),        tflite::Register_AVERAGE_POOL_2D(),
        tflite::Register_RESHAPE(),        tflite::Register_FULLY_CONNECTED(),
        tflite::Register_SOFTMAX(),
    };
    TfLiteNode nodes[] = {
        {0, 512, 400, 0.0},     {512, 1024, 400, 0.0}, {1024, 1536, 400, 0.0},
        {1536, 2048, 100, 0.0}, {2048, 2560, 100, 0.0}, {2560, 3072, 60, 0.0},
        {3072, 3584, 12, 0.0},
    };
    for (int i = 0; i < 512; i++) {
        tensor_arena[i] = (int8_t)(i * 37 + 11);
    }
    TfLiteContext context = {tensor_arena};
    tflite::MicroInterpreter interpreter(ops, nodes, 7, &context);
    if (interpreter.Prepare() != kTfLiteOk || interpreter.Invoke() != kTfLiteOk) {
        return 1;
    }
    unsigned sum = 0;
    for (int i = 0; i < 12; i++) {
        sum = sum * 31u + (uint8_t)tensor_arena[3584 + i];
    }
    printf("tflm-like %u scale %d\n", sum, (int)(nodes[6].scale * 1e6));
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A firmware shaped like a TensorFlow Lite Micro + CMSIS-NN build, written for mcusim's tests
 * (no TFLite Micro code in it): operators registered as invoke functions with TFLite Micro's
 * signature, in anonymous namespaces of one source file per operator under kernels/, called
 * through function pointers by an interpreter's Invoke, each calling a CMSIS-NN-named C
 * kernel; a Prepare step computing scales in double precision (libgcc's soft-float calls on
 * these cores). The profiler must find each operator as a layer, named and demangled.
 */
#ifndef TFLM_LIKE_H
#define TFLM_LIKE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
typedef enum { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;
typedef struct TfLiteContext {
    int8_t *arena;
} TfLiteContext;
typedef struct TfLiteNode {
    int in, out, size;
    double scale;
} TfLiteNode;

int32_t arm_convolve_s8(const int8_t *in, int8_t *out, int n);
int32_t arm_depthwise_conv_s8(const int8_t *in, int8_t *out, int n);
int32_t arm_fully_connected_s8(const int8_t *in, int8_t *out, int n);
int32_t arm_avgpool_s8(const int8_t *in, int8_t *out, int n);
int32_t arm_softmax_s8(const int8_t *in, int8_t *out, int n);
#ifdef __cplusplus
}

namespace tflite {
struct TfLiteRegistration {
    TfLiteStatus (*invoke)(TfLiteContext *, TfLiteNode *);
    const char *name;
};
TfLiteRegistration Register_CONV_2D();
TfLiteRegistration Register_DEPTHWISE_CONV_2D();
TfLiteRegistration Register_FULLY_CONNECTED();
TfLiteRegistration Register_AVERAGE_POOL_2D();
TfLiteRegistration Register_SOFTMAX();
TfLiteRegistration Register_RESHAPE();
} // namespace tflite
#endif

#endif

/* WebGPU adapters. Listing them needs the WebGPU backend (wgpu-native); until a build includes it (ACCEL_WEBGPU),
 * the probe says so rather than guessing. */
#include "hw/hw_internal.h"

void hw_probe_webgpu(hw_probe_out *out) {
#ifdef ACCEL_WEBGPU
    accel_webgpu_probe_adapters(out);
#else
    hw_probe_fail(out, "webgpu backend not built");
#endif
}

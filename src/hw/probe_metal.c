/* Apple Metal devices. Metal exists only on Apple platforms; enumerating its devices (MTLCopyAllDevices) needs
 * Objective-C, which this C build does not have yet, so on macOS the probe says that plainly. */
#include "hw/hw_internal.h"

void hw_probe_metal(hw_probe_out *out) {
#ifdef __APPLE__
    hw_probe_fail(out, "Metal device listing is not implemented in this build yet");
#else
    hw_probe_fail(out, "Metal exists only on macOS");
#endif
}

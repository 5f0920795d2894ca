#include "accel.h"

const char *accel_version(void) { return ACCEL_VERSION_STRING; }
const char *accel_build_info(void) { return ACCEL_BUILD_INFO; }

/* The device registry: every device of every compiled backend, found once at first use. */
#include "backends/backend.h"
#include "core/error.h"

#include <pthread.h>
#include <string.h>

#define MAX_DEVICES 64

static accel_device *g_devices[MAX_DEVICES];
static int g_n_devices;
static pthread_mutex_t g_registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_registry_once = PTHREAD_ONCE_INIT;

static void add_device_locked(accel_device *dev) {
    if (g_n_devices < MAX_DEVICES) g_devices[g_n_devices++] = dev;
}

static void registry_init(void) {
    static const accel_backend_reg *const builtin[] = {&accel_cpu_backend_reg, &accel_ref_backend_reg};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
        /* a backend whose runtime is missing simply adds no device */
        pthread_mutex_lock(&g_registry_mutex);
        builtin[i]->enumerate(add_device_locked);
        pthread_mutex_unlock(&g_registry_mutex);
    }
}

accel_status accel_device_register(accel_device *dev) {
    if (!dev || !dev->iface.name || !dev->iface.supports_op || !dev->iface.compute || !dev->iface.buffer_type)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_device_register: incomplete device interface");
    pthread_once(&g_registry_once, registry_init);
    pthread_mutex_lock(&g_registry_mutex);
    accel_status st = ACCEL_OK;
    if (g_n_devices >= MAX_DEVICES) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "device registry is full");
    else g_devices[g_n_devices++] = dev;
    pthread_mutex_unlock(&g_registry_mutex);
    return st;
}

int accel_device_count(void) {
    pthread_once(&g_registry_once, registry_init);
    pthread_mutex_lock(&g_registry_mutex);
    int n = g_n_devices;
    pthread_mutex_unlock(&g_registry_mutex);
    return n;
}

accel_device *accel_device_get(int i) {
    pthread_once(&g_registry_once, registry_init);
    pthread_mutex_lock(&g_registry_mutex);
    accel_device *d = i >= 0 && i < g_n_devices ? g_devices[i] : NULL;
    pthread_mutex_unlock(&g_registry_mutex);
    return d;
}

accel_device *accel_device_by_name(const char *name) {
    if (!name) return NULL;
    int n = accel_device_count();
    for (int i = 0; i < n; i++) {
        accel_device *d = accel_device_get(i);
        if (strcmp(d->iface.name(d), name) == 0) return d;
    }
    return NULL;
}

const char *accel_device_name(const accel_device *dev) {
    return dev ? dev->iface.name((accel_device *)dev) : "";
}
const char *accel_device_description(const accel_device *dev) {
    return dev && dev->iface.description ? dev->iface.description((accel_device *)dev) : "";
}
accel_device_type accel_device_get_type(const accel_device *dev) {
    return dev && dev->iface.type ? dev->iface.type((accel_device *)dev) : ACCEL_DEVICE_CPU;
}
int accel_device_priority(const accel_device *dev) { return dev ? dev->priority : 0; }

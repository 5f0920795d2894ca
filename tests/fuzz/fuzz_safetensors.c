/* libFuzzer target for the safetensors parser (not built by default). With a clang build of libaccel
 * (CC=clang cmake -DACCEL_SANITIZE=ON ...):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc tests/fuzz/fuzz_safetensors.c \
 *     <build>/libaccel.a -lcjson -lutf8proc -lopenblas -lm -ldl -lpthread -o fuzz_safetensors
 * Without libFuzzer (e.g. gcc), -DFUZZ_STANDALONE adds a main() that runs each file named on the command line:
 *   cc -fsanitize=address,undefined -DFUZZ_STANDALONE -Iinclude -Isrc tests/fuzz/fuzz_safetensors.c \
 *     <asan-build>/libaccel.a -lcjson -lutf8proc -lopenblas -lm -ldl -lpthread -o fuzz_safetensors
 * Each input is parsed as a whole safetensors file (accel_st_open_memory); when it opens, every tensor is read
 * back through accel_st_load_as so out-of-bounds offsets would be caught by ASan. */
#include "io/safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so ASan flags any read past the end */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    accel_st *st = NULL;
    if (accel_st_open_memory(copy, size, "fuzz", &st) == ACCEL_OK) {
        for (int i = 0; i < accel_st_count(st); i++) {
            accel_st_info info;
            if (accel_st_info_get(st, i, &info) != ACCEL_OK) abort();
            if ((const uint8_t *)info.data < copy || (const uint8_t *)info.data + info.nbytes > copy + size) abort();
            if (accel_st_find(st, info.name) != i) abort();
            if (info.nelements > (1 << 20)) continue;
            size_t need = (size_t)info.nelements * 8;
            void *dst = malloc(need ? need : 1);
            if (!dst) continue;
            bool fl = info.dtype == ACCEL_ST_F32 || info.dtype == ACCEL_ST_F16 || info.dtype == ACCEL_ST_BF16;
            accel_st_load_as(st, info.name, fl ? ACCEL_F32 : ACCEL_I64, dst, need);
            free(dst);
        }
        for (int i = 0; i < accel_st_metadata_count(st); i++) {
            const char *k = NULL, *v = NULL;
            if (accel_st_metadata_get(st, i, &k, &v) != ACCEL_OK || accel_st_metadata_find(st, k) != v) abort();
        }
        accel_st_close(st);
    }
    free(copy);
    return 0;
}

#ifdef FUZZ_STANDALONE
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) continue;
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0, got;
        uint8_t chunk[65536];
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (n + got > cap) {
                cap = (n + got) * 2;
                uint8_t *nb = realloc(buf, cap);
                if (!nb) break;
                buf = nb;
            }
            memcpy(buf + n, chunk, got);
            n += got;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf ? buf : (const uint8_t *)"", n);
        free(buf);
    }
    return 0;
}
#endif

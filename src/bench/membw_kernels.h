/* membw_kernels.h — the read pass of the bandwidth measurement (membw.c) per instruction set: the sum of the
 * 64-bit words of p[0, bytes). The widest loads the CPU has: a narrow loop cannot keep enough cache-line fills in
 * flight and reads well below what the memory delivers (measured here: about 18 GB/s with 64-bit loads against
 * 30 GB/s with 512-bit ones), which would make the decode bound too easy to reach.
 * p is 64-byte aligned and bytes a multiple of 64. The AVX2 / AVX-512 variants exist on x86 only. */
#ifndef ACCEL_BENCH_MEMBW_KERNELS_H
#define ACCEL_BENCH_MEMBW_KERNELS_H

#include <stddef.h>
#include <stdint.h>

uint64_t membw_sum_portable(const void *p, size_t bytes);
uint64_t membw_sum_avx2(const void *p, size_t bytes);
uint64_t membw_sum_avx512(const void *p, size_t bytes);

#endif

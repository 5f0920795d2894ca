/* Polynomial coefficients shared by the SIMD math in cpu_vec_avx512.h and cpu_vec_avx2.h (highest degree first,
 * for Horner evaluation). */
#ifndef ACCEL_CPU_VEC_COEF_H
#define ACCEL_CPU_VEC_COEF_H

/* exp: x = n ln2 + r with |r| <= ln2/2 (ln2 split in a short high part, so n * hi is exact, and a low part);
 * exp(r) = 1 + r + r^2 P(r) (Cephes expf, <= 1 ulp on the reduced range). */
#define CPU_EXP_LOG2E 1.44269504088896341f
#define CPU_EXP_LN2_HI 0.693359375f
#define CPU_EXP_LN2_LO -2.12194440e-4f
#define CPU_EXP_MAX 88.8f   /* exp(88.8) > FLT_MAX: inputs are clamped here, giving +inf */
#define CPU_EXP_FTZ -87.3365f /* exp(-87.3365) is just above FLT_MIN: below, results are flushed to 0, as a
                               * denormal result costs a microcode assist (~100 cycles) and masked scores (-inf)
                               * are common */
#define CPU_EXP_P0 1.9875691500e-4f
#define CPU_EXP_P1 1.3981999507e-3f
#define CPU_EXP_P2 8.3334519073e-3f
#define CPU_EXP_P3 4.1665795894e-2f
#define CPU_EXP_P4 1.6666665459e-1f
#define CPU_EXP_P5 5.0000001201e-1f

/* exp2: t = n + f with n = round(t), |f| <= 1/2; 2^f = Q(f) (fitted, Chebyshev via mpmath, rel. error 2e-9).
 * Softmax computes exp(v - max) as 2^((v - max) log2 e), folding its scale into one constant. */
#define CPU_EXP2_MAX 129.0f /* 2^129 overflows: +inf */
#define CPU_EXP2_FTZ -125.0f /* below, results are flushed to 0: a denormal result costs a microcode assist each,
                              * ~100 cycles, and softmax of masked scores (-inf, -3.4e38) is full of them */
#define CPU_EXP2_Q0 1.54614446986e-4f
#define CPU_EXP2_Q1 1.34004281776e-3f
#define CPU_EXP2_Q2 9.61805667852e-3f
#define CPU_EXP2_Q3 5.55032722667e-2f
#define CPU_EXP2_Q4 2.40226509223e-1f
#define CPU_EXP2_Q5 6.93147206703e-1f
#define CPU_EXP2_Q6 1.0f

/* tanh for |x| < 0.625: x + x z P(z), z = x^2 (Cephes tanhf); above, 1 - 2 / (exp(2|x|) + 1). */
#define CPU_TANH_SMALL 0.625f
#define CPU_TANH_P0 -5.70498872745e-3f
#define CPU_TANH_P1 2.06390887954e-2f
#define CPU_TANH_P2 -5.37397155531e-2f
#define CPU_TANH_P3 1.33314422036e-1f
#define CPU_TANH_P4 -3.33332819422e-1f

/* erf and erfc, fitted (Chebyshev, mpmath) for this code:
 *  |t| < 1:      erf(t) = t + t (T(t^2) - 1)              (T: 7 terms, abs. error 1.2e-9)
 *  0.5 <= t < 2: erfc(t) = exp(-t^2) G(t - 1.25)           (G: 10 terms, rel. error 2.2e-8)
 *  t >= 2:       erfc(t) = exp(-t^2) / t * R(1/t^2)        (R: 8 terms, rel. error 2.5e-8, up to t = 10.1 where
 *                                                         erfc underflows f32)
 * The erfc forms overlap erf's on [0.5, 1): the normal CDF switches at 0.5, where 1 + erf(t) still has no
 * cancellation to speak of. */
#define CPU_ERF_T0 7.875875063e-5f
#define CPU_ERF_T1 -8.016864287e-4f
#define CPU_ERF_T2 5.189087423e-3f
#define CPU_ERF_T3 -2.685421201e-2f
#define CPU_ERF_T4 1.128359472e-1f
#define CPU_ERF_T5 -3.761262667e-1f
#define CPU_ERF_T6M1 1.2837916585e-1f /* T's constant term minus 1: erf = t + t (T(t^2) - 1) rounds better */

#define CPU_ERFC_G_CENTER 1.25f /* G is a polynomial in t - 1.25: well conditioned over [0.5, 2) */
#define CPU_ERFC_G0 -1.89587355349e-4f
#define CPU_ERFC_G1 5.57413058321e-4f
#define CPU_ERFC_G2 -1.31231558645e-3f
#define CPU_ERFC_G3 3.5108373736e-3f
#define CPU_ERFC_G4 -9.08436621957e-3f
#define CPU_ERFC_G5 2.20199666673e-2f
#define CPU_ERFC_G6 -5.02180807787e-2f
#define CPU_ERFC_G7 1.06794963108e-1f
#define CPU_ERFC_G8 -2.08821878145e-1f
#define CPU_ERFC_G9 3.67822923304e-1f

/* R has two terms fewer than G: zeros in front let one Horner loop with per-lane coefficients do both */
#define CPU_ERFC_R0 0.0f
#define CPU_ERFC_R1 0.0f
#define CPU_ERFC_R2 -9.13623222e+0f
#define CPU_ERFC_R3 1.171988489e+1f
#define CPU_ERFC_R4 -7.022999679e+0f
#define CPU_ERFC_R5 2.830164791e+0f
#define CPU_ERFC_R6 -1.005822149e+0f
#define CPU_ERFC_R7 4.213322074e-1f
#define CPU_ERFC_R8 -2.820637801e-1f
#define CPU_ERFC_R9 5.641893975e-1f

#define CPU_SQRT1_2 0.707106781186547524f
#define CPU_GELU_TANH_K 0.797884560802865356f /* sqrt(2 / pi) */
#define CPU_GELU_TANH_C 0.044715f
#define CPU_QUICK_GELU_K 1.702f

#endif

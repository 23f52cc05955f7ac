/**
 * How far a user kernel's float32 result may be from its float64 reference, by kind of math.
 * NUMERICS.md ("User kernels") explains each; the corpus and the user-kernel tests use these.
 */
export const USER_KERNEL_TOLERANCE = {
  /** Integer-valued results and single roundings: exact up to float32 rounding of the reference. */
  exact: { rtol: 1.2e-7, atol: 0 },
  /** A few float32 operations (+, -, *, /, sqrt): a handful of roundings. */
  arithmetic: { rtol: 1e-6, atol: 1e-6 },
  /** exp, log, pow, sin, cos, tan, atan, sinh... on the GPU (WGSL allows a few ulp, lavapipe uses polynomial approximations). */
  transcendental: { rtol: 4e-6, atol: 2e-6 },
  /** asin, acos (through atan2) and atan2 on lavapipe. */
  inverseTrig: { rtol: 1e-5, atol: 4e-6 },
  /** Results that may be denormal: lavapipe flushes float32 denormals to zero (FLT_MIN = 1.18e-38). */
  denormal: { rtol: 1.2e-7, atol: 1.2e-38 },
  /** Sums of many terms in a loop: error grows with the number of terms. */
  accumulated: (terms: number) => ({ rtol: 2e-7 * terms, atol: 2e-7 * terms }),
} as const;

/** train()'s loss, one definition for the autograd step (`replica.ts`) and the direct dense gradient (`dense-step.ts`), which must agree. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Cross-entropy of the probabilities `probs` against `oneHot`, each clipped to [ε, 1 − ε], summed
 * and divided by `size` (the global batch, so that replicas' gradients add up to the batch's).
 *
 * @example
 * ```ts
 * const loss = clippedCrossEntropy(model.apply(x) as tf.Tensor, tf.oneHot(labels, 10), 1024, 1e-7);
 * ```
 */
export function clippedCrossEntropy(probs: tf.Tensor, oneHot: tf.Tensor, size: number, epsilon: number): tf.Scalar {
  return tf.div(tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(probs, epsilon, 1 - epsilon))))), size) as tf.Scalar;
}

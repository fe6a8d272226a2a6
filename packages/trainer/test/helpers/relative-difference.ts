/**
 * Largest |a − b| over the largest |a|: how far two backends' (or two weight loaders') outputs for the
 * same input are apart, independent of the outputs' scale.
 */
export function relativeDifference(expected: Float32Array, actual: Float32Array): number {
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    difference = Math.max(difference, Math.abs(expected[i]! - actual[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return difference / scale;
}

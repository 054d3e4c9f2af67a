/**
 * Test-only helpers around @jax-js/jax (the independent gradient oracle). Node 20 has no Float16Array, which
 * jax-js probes for; a stub class makes its instanceof checks false.
 */
(globalThis as { Float16Array?: unknown }).Float16Array ??= class Float16ArrayStub {};
const jax = await import('@jax-js/jax');
await jax.init('wasm');

export const { numpy: np, nn, grad, valueAndGrad, scipySpecial } = jax;
export type JArray = InstanceType<typeof jax.numpy.Array>;

/** A float64 (or float32) jax array from a flat typed array. */
export function jarr(data: ArrayLike<number>, shape: number[], dtype: 'float64' | 'float32' = 'float64'): JArray {
  const typed = dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
  return np.array(typed, { dtype: dtype === 'float64' ? np.float64 : np.float32 }).reshape(shape) as JArray;
}

export function jint(data: ArrayLike<number>, shape: number[]): JArray {
  return np.array(Int32Array.from(data), { dtype: np.int32 }).reshape(shape) as JArray;
}

/** Reads a jax array as float64 values (consumes it). */
export function values(a: JArray): Float64Array {
  return Float64Array.from(a.dataSync() as ArrayLike<number>);
}

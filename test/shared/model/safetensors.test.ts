import { describe, expect, it } from 'vitest';
describe('safetensors from a Buffer (as read from disk)', () => {
  it('copies tensor data out of a pooled Buffer', async () => {
    const { writeSafetensors, readSafetensors } = await import('../../../shared/model/safetensors.js');
    const data = Float32Array.from([1, 2, 3]);
    const bytes = writeSafetensors([['x', { dtype: 'F32', shape: [3], data }]]);
    // A Buffer view into a larger pool, like fs.readFile returns for small files.
    const pool = Buffer.alloc(bytes.length + 100);
    pool.set(bytes, 50);
    const view = pool.subarray(50, 50 + bytes.length);
    const t = readSafetensors(view).tensors.get('x')!;
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3]);
  });
});

/**
 * Composite layers with hand-written backward rules (custom-gradient regions). Their forward nodes are the
 * same standard ops everywhere; only the training graph's backward differs from node-by-node autodiff.
 * Each is tested against finite differences and jax-js like the per-op rules.
 */
import { LamerError } from '../../errors.js';
import { staticShape, type GraphBuilder, type Tensor } from './graph.js';

/**
 * softmax(q·kᵀ + bias)·v over [B, H, T, dh] tensors (q already scaled; bias a constant mask). Backward uses
 * D = rowsum(dO ⊙ O) instead of rowsum(dP ⊙ P) (FlashAttention): dS = P ⊙ (dP − D) is one fewer pass over the
 * [B, H, Tq, Tk] scores than the generic Softmax rule.
 *
 * Layouts for onnxruntime's MatMul (MLAS): a transposed [Tq, Tk] left operand (fused Transpose) ran ~2x slower
 * than a plain one, while transposing a small [T, dh] operand inside the MatMul is cheap. So dK = dSᵀ·q and
 * dV = Pᵀ·dO are emitted as dKᵀ = qᵀ·dS and dVᵀ = dOᵀ·P (the transposes back merge with the heads transpose
 * that follows), and dQ = dS·k reuses the forward's kᵀ: every transposed operand is a small one.
 */
export function attention(b: GraphBuilder, q: Tensor, k: Tensor, v: Tensor, bias: Tensor): Tensor {
  return b.group(
    [q, k, v, bias],
    () => {
      const kT = b.transposeLast(k);
      const p = b.softmax(b.add(b.matmul(q, kT), bias), -1);
      return { output: b.matmul(p, v), p, kT };
    },
    ({ output, p, kT }) =>
      (bb, g, need) => {
        if (need[3]) throw new LamerError('RL_ERR_INTERNAL', 'attention: the bias must be a constant (no gradient)');
        const D = bb.reduceSum(bb.mul(g, output), [-1], true);
        // dP − D as one MatMul with the inner dimension extended by one: [dO | D]·[v | −1]ᵀ (no pass over the
        // [B, H, Tq, Tk] scores for the subtraction).
        const vs = staticShape(v);
        const minusOne = bb.constantOfShape([...vs.slice(0, -1), 1], v.dtype, -1);
        const dPminusD = bb.matmul(bb.concat([g, D], -1), bb.transposeLast(bb.concat([v, minusOne], -1)));
        const dS = bb.mul(p, dPminusD);
        return [
          need[0] ? bb.matmul(dS, bb.transposeLast(kT)) : null,
          need[1] ? bb.transposeLast(bb.matmul(bb.transposeLast(q), dS)) : null,
          need[2] ? bb.transposeLast(bb.matmul(bb.transposeLast(g), p)) : null,
          null,
        ];
      },
  );
}

/**
 * Exact GELU 0.5·x·(1 + erf(x/√2)) in the node pattern onnxruntime fuses for inference. Backward, reusing
 * u = x/√2 and a = 1 + erf(u) from the forward pass:
 *   dGELU/dx = Φ(x) + x·φ(x) = 0.5·(a + (2/√π)·u·e^(−u²)),  with u·e^(−u²) computed as u / e^(u²)
 * (e^(u²) overflows to +∞ for |u| > 9.4, giving the correct limit 0).
 */
export function gelu(b: GraphBuilder, x: Tensor): Tensor {
  return b.group(
    [x],
    () => {
      const u = b.div(x, b.scalar(Math.SQRT2, x.dtype));
      const a = b.add(b.erf(u), b.scalar(1, x.dtype));
      return { output: b.mul(b.mul(x, a), b.scalar(0.5, x.dtype)), u, a };
    },
    ({ u, a }) =>
      (bb, g) => {
        const w = bb.div(u, bb.exp(bb.mul(u, u)));
        const d = bb.add(a, bb.mul(w, bb.scalar(2 / Math.sqrt(Math.PI), x.dtype)));
        return [bb.mul(bb.mul(g, bb.scalar(0.5, x.dtype)), d)];
      },
  );
}

/**
 * u·(1 + erf(u)) = √2·GELU(√2·u), for training graphs: with the 1/√2 folded into the previous layer's weights
 * and bias and the remaining 1/√2 into the next layer's weights, GELU costs three passes over the [B, T, 4d]
 * activations (Erf, Add, Mul) instead of five. Backward, with a = 1 + erf(u) saved:
 *   d/du = a + (2/√π)·u·e^(−u²),  u·e^(−u²) computed as u / e^(u²) (→ 0 where e^(u²) overflows).
 */
export function scaledGelu(b: GraphBuilder, u: Tensor): Tensor {
  return b.group(
    [u],
    () => {
      const a = b.add(b.erf(u), b.scalar(1, u.dtype));
      return { output: b.mul(u, a), a };
    },
    ({ a }) =>
      (bb, g) => {
        const w = bb.div(u, bb.exp(bb.mul(u, u)));
        return [bb.mul(g, bb.add(a, bb.mul(w, bb.scalar(2 / Math.sqrt(Math.PI), u.dtype))))];
      },
  );
}

/** Names of the custom-gradient layers (tests cover each). */
export const CUSTOM_GRADIENT_LAYERS = ['attention', 'gelu', 'scaledGelu'] as const;

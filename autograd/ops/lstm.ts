/**
 * The LSTM cell with `torch.nn.LSTMCell`'s layout and gate order (i, f, g, o), so weights are
 * interchangeable with PyTorch:
 *
 * ```text
 * G  = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh          [B, 4H] = [i | f | g | o]
 * c′ = σ(f)⊙c + σ(i)⊙tanh(g)
 * h′ = σ(o)⊙tanh(c′)
 * ```
 *
 * Three tape nodes per step: the gate pre-activations `G` (one GEMM onto `x·W_ihᵀ + biases`), then
 * one fused pointwise pass that yields `c′` (parents `G`, `c`) and `h′` (parents `G`, `c′`); the
 * pass keeps the activated gates and `tanh(c′)` for both backwards.
 *
 * For a rollout, `x·W_ihᵀ` does not depend on the recurrence: compute it for all T steps at once
 * with `lstmInputProjection` (one GEMM forward, one weight-gradient GEMM backward), slice one step
 * at a time (`slice` from the shape ops) and pass it to `lstmCellProjected`.
 *
 * @module
 */
import { gemm } from "../backends/cpu/gemm.ts";
import { linear } from "./matmul.ts";
import {
  accumulateWeightGradient,
  allocate,
  assertSameDType,
  type FloatArray,
  formatShape,
  result,
  type Tensor,
} from "../tensor.ts";

/** Hidden and cell state of an LSTM, each `[B,H]`. */
export interface LstmState {
  h: Tensor;
  c: Tensor;
}

/**
 * One LSTM step, `torch.nn.LSTMCell` semantics: `x[B,I]`, `h`,`c` `[B,H]`, `wIh[4H,I]`,
 * `wHh[4H,H]`, `bIh`,`bHh` `[4H]` (either bias may be omitted) → the next `{ h, c }`.
 *
 * @example
 * ```ts
 * let state = { h: zeros([1, 256]), c: zeros([1, 256]) };
 * state = lstmCell(features, state.h, state.c, lstm.wIh, lstm.wHh, lstm.bIh, lstm.bHh);
 * ```
 */
export function lstmCell(
  x: Tensor,
  h: Tensor,
  c: Tensor,
  wIh: Tensor,
  wHh: Tensor,
  bIh?: Tensor,
  bHh?: Tensor,
): LstmState {
  const op = "lstmCell";
  const hidden = checkRecurrent(op, h, c, wHh, bHh);
  if (x.rank !== 2 || x.shape[0] !== h.shape[0]) {
    throw new RangeError(
      `${op}: input has shape ${formatShape(x.shape)}, expected [${h.shape[0]},I] like h ${
        formatShape(h.shape)
      }`,
    );
  }
  if (wIh.rank !== 2 || wIh.shape[0] !== 4 * hidden || wIh.shape[1] !== x.shape[1]) {
    throw new RangeError(
      `${op}: wIh has shape ${formatShape(wIh.shape)}, expected [${4 * hidden},${x.shape[1]}]`,
    );
  }
  if (bIh !== undefined && (bIh.rank !== 1 || bIh.shape[0] !== 4 * hidden)) {
    throw new RangeError(
      `${op}: bIh has shape ${formatShape(bIh.shape)}, expected [${4 * hidden}]`,
    );
  }
  return step(op, linear(x, wIh, bIh), h, c, wHh, bHh);
}

/**
 * The input half of the gates for many steps at once: `xs[..., I]` → `xs·W_ihᵀ + b_ih`
 * `[..., 4H]`. A rollout projects all T steps' inputs (`[T·B, I]`) in one GEMM, so the backward
 * computes `dW_ih` as one GEMM over every step too.
 *
 * @example
 * ```ts
 * const proj = lstmInputProjection(features, lstm.wIh, lstm.bIh); // [T,4H]
 * for (let t = 0; t < T; t++) {
 *   state = lstmCellProjected(slice(proj, 0, t, t + 1), state.h, state.c, lstm.wHh, lstm.bHh);
 * }
 * ```
 */
export function lstmInputProjection(xs: Tensor, wIh: Tensor, bIh?: Tensor): Tensor {
  return linear(xs, wIh, bIh);
}

/**
 * One LSTM step from a precomputed input projection `xProj[B,4H]` (see `lstmInputProjection`):
 * same result as `lstmCell` with the same weights.
 */
export function lstmCellProjected(
  xProj: Tensor,
  h: Tensor,
  c: Tensor,
  wHh: Tensor,
  bHh?: Tensor,
): LstmState {
  const op = "lstmCellProjected";
  checkRecurrent(op, h, c, wHh, bHh);
  return step(op, xProj, h, c, wHh, bHh);
}

function checkRecurrent(op: string, h: Tensor, c: Tensor, wHh: Tensor, bHh?: Tensor): number {
  assertSameDType(op, h, wHh);
  assertSameDType(op, c, wHh);
  if (h.rank !== 2) {
    throw new RangeError(`${op}: h has shape ${formatShape(h.shape)}, expected [B,H]`);
  }
  const [b, hidden] = h.shape;
  if (c.rank !== 2 || c.shape[0] !== b || c.shape[1] !== hidden) {
    throw new RangeError(
      `${op}: c has shape ${formatShape(c.shape)}, expected ${formatShape(h.shape)} like h`,
    );
  }
  if (wHh.rank !== 2 || wHh.shape[0] !== 4 * hidden || wHh.shape[1] !== hidden) {
    throw new RangeError(
      `${op}: wHh has shape ${formatShape(wHh.shape)}, expected [${4 * hidden},${hidden}]`,
    );
  }
  if (bHh !== undefined && (bHh.rank !== 1 || bHh.shape[0] !== 4 * hidden)) {
    throw new RangeError(
      `${op}: bHh has shape ${formatShape(bHh.shape)}, expected [${4 * hidden}]`,
    );
  }
  return hidden;
}

function step(
  op: string,
  xProj: Tensor,
  h: Tensor,
  c: Tensor,
  wHh: Tensor,
  bHh: Tensor | undefined,
): LstmState {
  const [b, hidden] = h.shape;
  if (xProj.rank !== 2 || xProj.shape[0] !== b || xProj.shape[1] !== 4 * hidden) {
    throw new RangeError(
      `${op}: input projection has shape ${formatShape(xProj.shape)}, expected [${b},${
        4 * hidden
      }]`,
    );
  }
  assertSameDType(op, xProj, h);
  const gates = recurrentGates(xProj, h, wHh, bHh);
  return pointwise(gates, c);
}

/** `G = xProj + h·W_hhᵀ + b_hh` as one node. */
function recurrentGates(xProj: Tensor, h: Tensor, wHh: Tensor, bHh: Tensor | undefined): Tensor {
  const [b, hidden] = h.shape;
  const g4 = 4 * hidden;
  const out = allocate(h.dtype, b * g4);
  out.set(xProj.data);
  if (bHh !== undefined) {
    const bd = bHh.data;
    for (let r = 0; r < b; r++) {
      const row = r * g4;
      for (let j = 0; j < g4; j++) out[row + j] += bd[j];
    }
  }
  const hd = h.data, wd = wHh.data;
  gemm(false, true, b, g4, hidden, hd, wd, out, true);
  const parents = bHh === undefined ? [xProj, h, wHh] : [xProj, h, wHh, bHh];
  return result(out, [b, g4], parents, (g) => {
    if (xProj.requiresGrad) {
      const gx = xProj.ensureGrad();
      for (let i = 0; i < g.length; i++) gx[i] += g[i];
    }
    if (h.requiresGrad) gemm(false, false, b, hidden, g4, g, wd, h.ensureGrad(), true);
    if (wHh.requiresGrad) accumulateWeightGradient(wHh, g4, hidden, b, g, hd);
    if (bHh !== undefined && bHh.requiresGrad) {
      const gb = bHh.ensureGrad();
      for (let r = 0; r < b; r++) {
        const row = r * g4;
        for (let j = 0; j < g4; j++) gb[j] += g[row + j];
      }
    }
  });
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** The fused gate nonlinearities and state update: `c′` and `h′` from `G` and `c`. */
function pointwise(gates: Tensor, c: Tensor): LstmState {
  const [b, g4] = gates.shape;
  const hidden = g4 / 4;
  const gd = gates.data, cd = c.data;
  // act: σ(i), σ(f), tanh(g), σ(o) in the gates' layout.
  const act: FloatArray = allocate(gates.dtype, b * g4);
  const cOut = allocate(gates.dtype, b * hidden);
  const tc = allocate(gates.dtype, b * hidden);
  const hOut = allocate(gates.dtype, b * hidden);
  for (let r = 0; r < b; r++) {
    const gr = r * g4, sr = r * hidden;
    for (let j = 0; j < hidden; j++) {
      const ig = sigmoid(gd[gr + j]);
      const fg = sigmoid(gd[gr + hidden + j]);
      const gg = Math.tanh(gd[gr + 2 * hidden + j]);
      const og = sigmoid(gd[gr + 3 * hidden + j]);
      act[gr + j] = ig;
      act[gr + hidden + j] = fg;
      act[gr + 2 * hidden + j] = gg;
      act[gr + 3 * hidden + j] = og;
      const cv = fg * cd[sr + j] + ig * gg;
      cOut[sr + j] = cv;
      const t = Math.tanh(cv);
      tc[sr + j] = t;
      hOut[sr + j] = og * t;
    }
  }
  const cNext = result(cOut, [b, hidden], [gates, c], (dc) => {
    const gg = gates.requiresGrad ? gates.ensureGrad() : null;
    const gc = c.requiresGrad ? c.ensureGrad() : null;
    for (let r = 0; r < b; r++) {
      const gr = r * g4, sr = r * hidden;
      for (let j = 0; j < hidden; j++) {
        const d = dc[sr + j];
        const ig = act[gr + j], fg = act[gr + hidden + j], g = act[gr + 2 * hidden + j];
        if (gg !== null) {
          gg[gr + j] += d * g * ig * (1 - ig);
          gg[gr + hidden + j] += d * cd[sr + j] * fg * (1 - fg);
          gg[gr + 2 * hidden + j] += d * ig * (1 - g * g);
        }
        if (gc !== null) gc[sr + j] += d * fg;
      }
    }
  });
  const hNext = result(hOut, [b, hidden], [gates, cNext], (dh) => {
    const gg = gates.requiresGrad ? gates.ensureGrad() : null;
    const gc = cNext.requiresGrad ? cNext.ensureGrad() : null;
    for (let r = 0; r < b; r++) {
      const gr = r * g4, sr = r * hidden;
      for (let j = 0; j < hidden; j++) {
        const d = dh[sr + j];
        const og = act[gr + 3 * hidden + j], t = tc[sr + j];
        if (gg !== null) gg[gr + 3 * hidden + j] += d * t * og * (1 - og);
        if (gc !== null) gc[sr + j] += d * og * (1 - t * t);
      }
    }
  });
  return { h: hNext, c: cNext };
}

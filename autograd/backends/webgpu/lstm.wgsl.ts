/**
 * WGSL fused LSTM cell (the pointwise half; the gate pre-activations come from matrix products)
 * and row scaling (LSTM state reset masks).
 *
 * Gates are `[batch, 4·hidden]` in the CPU `lstmCell`'s order (i, f, g, o):
 *
 * ```text
 * c′ = σ(f)⊙c + σ(i)⊙tanh(g)        h′ = σ(o)⊙tanh(c′)
 * ```
 *
 * - `lstmCellKernel`: one invocation per (row, unit); writes `h′`, `c′` and the activated gates
 *   `act = [σ(i) | σ(f) | tanh(g) | σ(o)]` for the backward.
 * - `lstmCellBackwardKernel`: from `dh′` and `dc′` (absent at the last step: `hasDc = 0`) the
 *   gradient of the pre-activation gates and of `c`, recomputing `tanh(c′)` from `c′`.
 * - `scaleRowsKernel`: `y[r, j] = x[r, j]·scale[r]`, in place or not.
 *
 * All three run one invocation per element of a rows×cols matrix (rows = batch, cols = hidden)
 * on a grid whose x runs along a row and whose y and z count rows (`row = z·gridY + y`), so no
 * invocation divides (integer division is scalarised on CPU adapters). Uniforms: `rows, cols,
 * gridY` (rows per z layer), then `hasDc` for the backward. Dispatch
 * `[ceil(cols/64), min(rows, gridY), ceil(rows/gridY)]`.
 *
 * σ and tanh go through `e^(−|v|)` so that large |v| saturates instead of giving inf/inf.
 *
 * @module
 */
import type { Kernel } from "./device.ts";

/** Invocations per workgroup of the LSTM and row-scaling kernels. */
export const LSTM_WORKGROUP = 64;

/** Row and column of the invocation: x runs along a row, (y, z) over the rows. */
const INDEX = `let col = gid.x;
  let row = gid.z * u.gridY + gid.y;`;

const ACTIVATIONS = `
fn sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}
fn tanhStable(v: f32) -> f32 {
  let e = exp(-2.0 * abs(v));
  return sign(v) * (1.0 - e) / (1.0 + e);
}
`;

/** Forward: bindings `gates, cPrev, h, c, act`. */
export function lstmCellKernel(): Kernel {
  return {
    name: "lstm_cell",
    spec: { wg: LSTM_WORKGROUP },
    wgsl: () => `
struct Params { rows: u32, hidden: u32, gridY: u32 }
@group(0) @binding(0) var<storage, read> gates: array<f32>;
@group(0) @binding(1) var<storage, read> cPrev: array<f32>;
@group(0) @binding(2) var<storage, read_write> h: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> act: array<f32>;
@group(0) @binding(5) var<uniform> u: Params;
${ACTIVATIONS}
@compute @workgroup_size(${LSTM_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${INDEX}
  if (col >= u.hidden || row >= u.rows) { return; }
  let idx = row * u.hidden + col;
  let gi = row * 4u * u.hidden + col;
  let ig = sigmoid(gates[gi]);
  let fg = sigmoid(gates[gi + u.hidden]);
  let gg = tanhStable(gates[gi + 2u * u.hidden]);
  let og = sigmoid(gates[gi + 3u * u.hidden]);
  act[gi] = ig;
  act[gi + u.hidden] = fg;
  act[gi + 2u * u.hidden] = gg;
  act[gi + 3u * u.hidden] = og;
  let cv = fg * cPrev[idx] + ig * gg;
  c[idx] = cv;
  h[idx] = og * tanhStable(cv);
}
`,
  };
}

/**
 * Backward: bindings `dh, dc, act, cPrev, c, dGates, dcPrev` (`dc` is ignored when `hasDc = 0`;
 * bind any read-only array there). Overwrites dGates and dcPrev.
 */
export function lstmCellBackwardKernel(): Kernel {
  return {
    name: "lstm_cell_backward",
    spec: { wg: LSTM_WORKGROUP },
    wgsl: () => `
struct Params { rows: u32, hidden: u32, gridY: u32, hasDc: u32 }
@group(0) @binding(0) var<storage, read> dh: array<f32>;
@group(0) @binding(1) var<storage, read> dc: array<f32>;
@group(0) @binding(2) var<storage, read> act: array<f32>;
@group(0) @binding(3) var<storage, read> cPrev: array<f32>;
@group(0) @binding(4) var<storage, read> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> dGates: array<f32>;
@group(0) @binding(6) var<storage, read_write> dcPrev: array<f32>;
@group(0) @binding(7) var<uniform> u: Params;
${ACTIVATIONS}
@compute @workgroup_size(${LSTM_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${INDEX}
  if (col >= u.hidden || row >= u.rows) { return; }
  let idx = row * u.hidden + col;
  let gi = row * 4u * u.hidden + col;
  let ig = act[gi];
  let fg = act[gi + u.hidden];
  let gg = act[gi + 2u * u.hidden];
  let og = act[gi + 3u * u.hidden];
  let t = tanhStable(c[idx]);
  let dhv = dh[idx];
  var dcv = dhv * og * (1.0 - t * t);
  if (u.hasDc != 0u) { dcv += dc[idx]; }
  dGates[gi] = dcv * gg * ig * (1.0 - ig);
  dGates[gi + u.hidden] = dcv * cPrev[idx] * fg * (1.0 - fg);
  dGates[gi + 2u * u.hidden] = dcv * ig * (1.0 - gg * gg);
  dGates[gi + 3u * u.hidden] = dhv * t * og * (1.0 - og);
  dcPrev[idx] = dcv * fg;
}
`,
  };
}

/** `y[r, j] = x[r, j]·scale[r]`: bindings `x, scale, y`, or `x, scale` with `x` overwritten when `inPlace`. */
export function scaleRowsKernel(inPlace: boolean): Kernel {
  const bindings = inPlace
    ? `@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;`
    : `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;`;
  return {
    name: "scale_rows",
    spec: { inPlace, wg: LSTM_WORKGROUP },
    wgsl: () => `
struct Params { rows: u32, cols: u32, gridY: u32 }
${bindings}

@compute @workgroup_size(${LSTM_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${INDEX}
  if (col >= u.cols || row >= u.rows) { return; }
  let idx = row * u.cols + col;
  ${inPlace ? "x" : "y"}[idx] = x[idx] * scale[row];
}
`,
  };
}

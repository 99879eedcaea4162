/**
 * WGSL 2-D max pooling without padding over NCHW planes, output size
 * `⌊(h − kernel)/stride⌋ + 1` per side, as the CPU `maxPool2d` with `padding = 0`.
 *
 * - `maxPool2dKernel`: one invocation per output, scanning its window in row-major order.
 * - `maxPool2dBackwardKernel`: one invocation per cell, the stride×stride block of input pixels
 *   `[cy·stride, (cy+1)·stride) × [cx·stride, (cx+1)·stride)`: it zeroes its pixels, then for each
 *   window that reaches the cell finds the window's first maximum (strict `>` in scan order, the
 *   CPU op's tie rule) and, when that lies in the cell, adds the window's gradient there. Every
 *   pixel belongs to one cell, so there are no atomics; overlapping windows add up, and pixels no
 *   window picks get 0.
 *
 * Both grids are 3-D, (column, row, plane) with planes = batch·channels, so no invocation divides
 * (integer division is scalarised on CPU adapters and dominated these short kernels). Planes beyond
 * the dispatch limit go in several dispatches with `planeOffset`.
 *
 * NaNs are not treated specially (WGSL does not promise to preserve them), unlike the CPU op where
 * a NaN wins its window. Uniforms of both: `planeOffset, h, w, kernel, stride, outH, outW, span`
 * (`span = ⌈kernel/stride⌉`, the windows per side that reach one cell; unused by the forward).
 *
 * @module
 */
import type { Kernel } from "./device.ts";

/** Invocations per workgroup side of the pooling kernels (8×8 outputs or cells of one plane). */
export const POOL_WORKGROUP = 8;

const HEADER = (bindings: string) => `
struct Params {
  planeOffset: u32, h: u32, w: u32, kernel: u32, stride: u32, outH: u32, outW: u32, span: u32,
}
${bindings}
`;

/** Forward: bindings `x, y`. Dispatch `[ceil(outW/8), ceil(outH/8), planes]`. */
export function maxPool2dKernel(): Kernel {
  return {
    name: "max_pool2d",
    spec: { wg: POOL_WORKGROUP },
    wgsl: () =>
      HEADER(`@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;`) + `
@compute @workgroup_size(${POOL_WORKGROUP}, ${POOL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ox = gid.x;
  let oy = gid.y;
  if (ox >= u.outW || oy >= u.outH) { return; }
  let pl = gid.z + u.planeOffset;
  let start = pl * u.h * u.w + oy * u.stride * u.w + ox * u.stride;
  var best = x[start];
  for (var i = 0u; i < u.kernel; i++) {
    let row = start + i * u.w;
    for (var j = 0u; j < u.kernel; j++) { best = max(best, x[row + j]); }
  }
  y[(pl * u.outH + oy) * u.outW + ox] = best;
}
`,
  };
}

/**
 * Backward: bindings `dy, x, dx`. Dispatch `[ceil(ceil(w/stride)/8), ceil(ceil(h/stride)/8),
 * planes]`; overwrites dx.
 */
export function maxPool2dBackwardKernel(): Kernel {
  return {
    name: "max_pool2d_backward",
    spec: { wg: POOL_WORKGROUP },
    wgsl: () =>
      HEADER(`@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;`) + `
@compute @workgroup_size(${POOL_WORKGROUP}, ${POOL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let y0 = gid.y * u.stride;
  let x0 = gid.x * u.stride;
  if (x0 >= u.w || y0 >= u.h) { return; }
  let pl = gid.z + u.planeOffset;
  let base = pl * u.h * u.w;
  let y1 = min(y0 + u.stride, u.h);
  let x1 = min(x0 + u.stride, u.w);
  for (var iy = y0; iy < y1; iy++) {
    for (var ix = x0; ix < x1; ix++) { dx[base + iy * u.w + ix] = 0.0; }
  }
  // Windows (oy, ox) with oy ≤ cy < oy + span reach this cell (likewise ox).
  let oyHi = min(gid.y + 1u, u.outH);
  let oxHi = min(gid.x + 1u, u.outW);
  for (var oy = select(0u, gid.y + 1u - u.span, gid.y + 1u >= u.span); oy < oyHi; oy++) {
    for (var ox = select(0u, gid.x + 1u - u.span, gid.x + 1u >= u.span); ox < oxHi; ox++) {
      let wy = oy * u.stride;
      let wx = ox * u.stride;
      var best = x[base + wy * u.w + wx];
      var ay = wy;
      var ax = wx;
      for (var i = 0u; i < u.kernel; i++) {
        let row = base + (wy + i) * u.w + wx;
        for (var j = 0u; j < u.kernel; j++) {
          let v = x[row + j];
          if (v > best) {
            best = v;
            ay = wy + i;
            ax = wx + j;
          }
        }
      }
      if (ay >= y0 && ay < y1 && ax >= x0 && ax < x1) {
        let at = base + ay * u.w + ax;
        dx[at] += dy[(pl * u.outH + oy) * u.outW + ox];
      }
    }
  }
}
`,
  };
}

// Worker isolate for tests/conv_test.ts: fills its own kernels' memory (a fixed 256 MiB) almost to
// the top, then runs a convolution and an ELU (forward and backward) too large for what is left,
// and reports their results with what the memory did.
import { wasmGemm } from "../autograd/backends/cpu/wasm_gemm.ts";
import { elu } from "../autograd/ops/elementwise.ts";
import { conv2d } from "../autograd/ops/conv.ts";
import { Tensor } from "../autograd/tensor.ts";

interface Job {
  x: number[];
  xShape: number[];
  w: number[];
  wShape: number[];
  g: number[];
  e: number[];
  eg: number[];
}

const scope = self as unknown as {
  onmessage: (event: MessageEvent<Job>) => void;
  postMessage: (message: unknown) => void;
};

scope.onmessage = (event) => {
  const job = event.data;
  const wasm = wasmGemm()!;
  const bytes = wasm.memory.buffer.byteLength;
  // Leave 64 KiB: less than the convolution's im2col or the ELU's buffers need.
  const kept = wasm.alloc(Math.floor((bytes - wasm.usedBytes - (64 << 10)) / 4));
  const x = new Tensor(Float32Array.from(job.x), job.xShape, { requiresGrad: true });
  const w = new Tensor(Float32Array.from(job.w), job.wShape, { requiresGrad: true });
  const y = conv2d(x, w, undefined, { stride: 2, padding: 1 });
  y.backward(Float32Array.from(job.g));
  const ex = new Tensor(Float32Array.from(job.e), [job.e.length], { requiresGrad: true });
  const ey = elu(ex);
  ey.backward(Float32Array.from(job.eg));
  // The kernel itself, asked directly, cannot take the ELU.
  let direct = "";
  try {
    wasm.elu(Float32Array.from(job.e), new Float32Array(job.e.length));
  } catch (e) {
    direct = (e as Error).message;
  }
  scope.postMessage({
    y: Array.from(y.data),
    gx: Array.from(x.grad!),
    gw: Array.from(w.grad!),
    ey: Array.from(ey.data),
    egx: Array.from(ex.grad!),
    direct,
    sameSize: wasm.memory.buffer.byteLength === bytes,
    keptLive: wasm.owns(kept) && kept.length > 0,
  });
};

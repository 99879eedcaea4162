/**
 * The WebGPU backend of the autograd: device setup (`requestGpu`, which returns null where there
 * is no adapter so callers fall back to the CPU backend), the `GpuBackend` (buffer pool, uploads,
 * batched readbacks, pipeline cache, dispatch batching), the WGSL kernels (one module per op
 * family: matmul, elementwise, reduce, softmax, conv, pool, lstm) and the ops that run them on
 * `GpuArray`s.
 *
 * @module
 */
export * from "./device.ts";
export * from "./ops.ts";
export * from "./matmul.wgsl.ts";
export * from "./elementwise.wgsl.ts";
export * from "./reduce.wgsl.ts";
export * from "./softmax.wgsl.ts";
export * from "./conv.wgsl.ts";
export * from "./pool.wgsl.ts";
export * from "./lstm.wgsl.ts";

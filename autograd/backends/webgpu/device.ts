/**
 * WebGPU device setup and the `GpuBackend`: buffers (a size-bucketed pool), uploads, batched
 * readbacks, a pipeline cache and dispatch batching.
 *
 * Every kernel binds its storage buffers at `@group(0) @binding(0..n-1)` in the order given to
 * `dispatch`, and one uniform block of `u32`s at `@binding(n)` (floats travel bit-cast, see
 * `f32Bits`). Dispatches are recorded into one command encoder and submitted together on the next
 * `write`, `read`, `flush` or `destroy`, so a chain of kernels costs one submission.
 *
 * @module
 */

/** What `requestGpu` returns: a device created with the adapter's maximum compute limits. */
export interface GpuContext {
  /** The device. */
  device: GPUDevice;
  /** Description, vendor and architecture of the adapter (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`). */
  adapterInfo: GPUAdapterInfo;
  /** The limits the device was created with. */
  limits: GPUSupportedLimits;
}

/** The limits `requestGpu` raises to the adapter's maxima. */
const REQUESTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
] as const;

/** How to get an adapter where there is none; also used by the tests' failure message. */
export const NO_ADAPTER_HELP =
  "WebGPU: no adapter found. On Debian/Ubuntu install Mesa's software " +
  "drivers (`apt-get install -y libegl1 libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers`), or " +
  "choose a backend with DENO_WEBGPU_BACKEND=vulkan|gl (set but empty gives no adapter).";

let warnedNoAdapter = false;

/**
 * Requests an adapter and a device with the adapter's maximum buffer and workgroup limits, and
 * reports uncaptured errors and device loss on the console. Returns null when WebGPU or an adapter
 * is missing (saying so once, with how to get one) so callers can fall back to the CPU backend.
 *
 * @example
 * ```ts
 * const gpu = await requestGpu();
 * const backend = gpu ? new GpuBackend(gpu) : null;
 * ```
 */
export async function requestGpu(): Promise<GpuContext | null> {
  // `navigator` is a Navigator in the main isolate and a WorkerNavigator in workers; both have gpu.
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  const adapter = gpu ? await gpu.requestAdapter({ powerPreference: "high-performance" }) : null;
  if (adapter === null) {
    if (!warnedNoAdapter) {
      warnedNoAdapter = true;
      console.warn(NO_ADAPTER_HELP + " Falling back to the CPU backend.");
    }
    return null;
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  const device = await adapter.requestDevice({ requiredLimits });
  device.addEventListener("uncapturederror", (event: Event) => {
    console.error(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  device.lost.then((info: GPUDeviceLostInfo) => {
    if (info.reason !== "destroyed") console.error(`WebGPU device lost: ${info.message}`);
  });
  return { device, adapterInfo: adapter.info, limits: device.limits };
}

/** A float32 array on the GPU. `length` is in elements; the buffer may be larger (pool bucket). */
export interface GpuArray {
  /** The underlying storage buffer (usage STORAGE | COPY_SRC | COPY_DST). */
  readonly buffer: GPUBuffer;
  /** Number of float32 elements. */
  readonly length: number;
}

/** A compute kernel: a name, its specialisation (part of the cache key) and a WGSL builder. */
export interface Kernel {
  /** Op name, e.g. `matmul`. */
  name: string;
  /** Specialisation baked into the WGSL (workgroup size, tiles, flags); part of the cache key. */
  spec: Record<string, string | number | boolean>;
  /** Builds the WGSL source for this specialisation (entry point `main`). */
  wgsl: () => string;
}

/** Bit pattern of a float32, to pass floats through the `u32` uniform block. */
export function f32Bits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0];
}
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const STAGING_USAGE = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
const UNIFORM_BYTES = 64;
const MIN_BUCKET = 256;

/** The smallest power-of-two bucket (≥ 256 bytes) that holds `bytes`. */
function bucketOf(bytes: number): number {
  let size = MIN_BUCKET;
  while (size < bytes) size *= 2;
  return size;
}

/**
 * The WebGPU backend: allocate, write, read, dispatch, free.
 *
 * Freed buffers return to a pool bucketed by power-of-two size; compiled pipelines are cached by
 * kernel name and specialisation. Shapes travel in uniforms, so one pipeline serves every shape.
 */
export class GpuBackend {
  /** The device. */
  readonly device: GPUDevice;
  /** Adapter description, vendor and architecture. */
  readonly adapterInfo: GPUAdapterInfo;
  /** Device limits. */
  readonly limits: GPUSupportedLimits;
  /** Whether the adapter is a fallback (software) one, e.g. llvmpipe. */
  readonly isFallbackAdapter: boolean;
  /** Number of pipelines compiled so far (each compile includes a shader JIT). */
  pipelinesCompiled = 0;

  #pool = new Map<number, GPUBuffer[]>();
  #stagingPool = new Map<number, GPUBuffer[]>();
  #uniformPool: GPUBuffer[] = [];
  #uniformsInFlight: GPUBuffer[] = [];
  #pipelines = new Map<string, GPUComputePipeline>();
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #live = new Set<GPUBuffer>();
  #destroyed = false;

  /** Wraps a context from `requestGpu`. */
  constructor(context: GpuContext) {
    this.device = context.device;
    this.adapterInfo = context.adapterInfo;
    this.limits = context.limits;
    const info = context.adapterInfo as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    this.isFallbackAdapter = info.isFallbackAdapter ?? false;
  }

  /** Allocates a float32 array of `length` elements (contents undefined when pooled). */
  allocate(length: number): GpuArray {
    this.#checkAlive("allocate");
    if (!Number.isInteger(length) || length < 0) {
      throw new Error(`GpuBackend.allocate: bad length ${length}`);
    }
    const bytes = bucketOf(Math.max(4, length * 4));
    if (bytes > this.limits.maxStorageBufferBindingSize) {
      throw new Error(
        `GpuBackend.allocate: ${length} floats (${bytes} bytes) exceed the device's ` +
          `maxStorageBufferBindingSize ${this.limits.maxStorageBufferBindingSize}`,
      );
    }
    const buffer = this.#pool.get(bytes)?.pop() ??
      this.device.createBuffer({ size: bytes, usage: STORAGE_USAGE });
    this.#live.add(buffer);
    return { buffer, length };
  }

  /** Allocates an array holding a copy of `data`. */
  upload(data: Float32Array): GpuArray {
    const array = this.allocate(data.length);
    this.write(array, data);
    return array;
  }

  /** Copies `data` into `array` (after every dispatch recorded so far). */
  write(array: GpuArray, data: Float32Array, offset = 0): void {
    this.#checkAlive("write");
    if (offset + data.length > array.length) {
      throw new Error(
        `GpuBackend.write: ${data.length} floats at offset ${offset} do not fit in ${array.length}`,
      );
    }
    this.flush();
    if (data.length > 0) {
      // Typed-array offsets and sizes of writeBuffer count elements.
      this.device.queue.writeBuffer(array.buffer, offset * 4, data as Float32Array<ArrayBuffer>);
    }
  }

  /** Returns `array` to the pool. Safe while recorded dispatches still use it (they run first). */
  free(array: GpuArray): void {
    if (this.#destroyed || !this.#live.delete(array.buffer)) return;
    const list = this.#pool.get(array.buffer.size) ?? [];
    list.push(array.buffer);
    this.#pool.set(array.buffer.size, list);
  }

  /** Reads one array back. */
  async read(array: GpuArray): Promise<Float32Array> {
    return (await this.readMany([array]))[0];
  }

  /**
   * Reads several arrays back with one submission and all maps in flight at once (each map costs
   * ~10 ms in Deno, several together about the same as one).
   */
  async readMany(arrays: readonly GpuArray[]): Promise<Float32Array[]> {
    this.#checkAlive("read");
    this.#endPass();
    const encoder = this.#encoder ?? this.device.createCommandEncoder();
    this.#encoder = null;
    const staging = arrays.map((a) => {
      const bytes = bucketOf(Math.max(4, a.length * 4));
      const buffer = this.#stagingPool.get(bytes)?.pop() ??
        this.device.createBuffer({ size: bytes, usage: STAGING_USAGE });
      if (a.length > 0) encoder.copyBufferToBuffer(a.buffer, 0, buffer, 0, a.length * 4);
      return buffer;
    });
    this.device.queue.submit([encoder.finish()]);
    this.#recycleUniforms();
    await Promise.all(staging.map((s) => s.mapAsync(GPUMapMode.READ)));
    return staging.map((s, i) => {
      const out = new Float32Array(arrays[i].length);
      if (out.length > 0) out.set(new Float32Array(s.getMappedRange(0, out.length * 4)));
      s.unmap();
      const list = this.#stagingPool.get(s.size) ?? [];
      list.push(s);
      this.#stagingPool.set(s.size, list);
      return out;
    });
  }

  /** The compiled pipeline of a kernel (compiled on first use, then cached). */
  pipeline(kernel: Kernel): GPUComputePipeline {
    const key = kernel.name + JSON.stringify(kernel.spec);
    let pipeline = this.#pipelines.get(key);
    if (pipeline === undefined) {
      const module = this.device.createShaderModule({ label: key, code: kernel.wgsl() });
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.#pipelines.set(key, pipeline);
      this.pipelinesCompiled++;
    }
    return pipeline;
  }

  /**
   * Records one dispatch of `kernel` over `workgroups` with storage `bindings` (binding 0..n-1)
   * and `uniforms` (a `u32` block at binding n; at most 16 values). Runs at the next submission.
   */
  dispatch(
    kernel: Kernel,
    bindings: readonly GpuArray[],
    uniforms: readonly number[],
    workgroups: readonly [number, number?, number?],
  ): void {
    this.#checkAlive(kernel.name);
    if (uniforms.length * 4 > UNIFORM_BYTES) {
      throw new Error(`GpuBackend.dispatch(${kernel.name}): more than 16 uniforms`);
    }
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = workgroups;
    if (x > max || y > max || z > max) {
      throw new Error(
        `GpuBackend.dispatch(${kernel.name}): workgroups [${x},${y},${z}] exceed ${max} per dimension`,
      );
    }
    if (x === 0 || y === 0 || z === 0) return;
    const pipeline = this.pipeline(kernel);
    const uniform = this.#uniformPool.pop() ??
      this.device.createBuffer({
        size: UNIFORM_BYTES,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
    this.#uniformsInFlight.push(uniform);
    const block = new Uint32Array(UNIFORM_BYTES / 4);
    block.set(uniforms);
    this.device.queue.writeBuffer(uniform, 0, block);
    const entries: GPUBindGroupEntry[] = bindings.map((b, i) => ({
      binding: i,
      resource: { buffer: b.buffer },
    }));
    entries.push({ binding: bindings.length, resource: { buffer: uniform } });
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    if (this.#pass === null) {
      this.#encoder ??= this.device.createCommandEncoder();
      this.#pass = this.#encoder.beginComputePass();
    }
    this.#pass.setPipeline(pipeline);
    this.#pass.setBindGroup(0, bindGroup);
    this.#pass.dispatchWorkgroups(x, y, z);
  }

  /**
   * Copies `length` floats from `src` (from element `srcOffset`) to `dst` (from element
   * `dstOffset`), recorded in order with the dispatches. Slices rows in and out of batched arrays.
   */
  copy(src: GpuArray, dst: GpuArray, length = src.length, srcOffset = 0, dstOffset = 0): void {
    this.#checkAlive("copy");
    if (srcOffset + length > src.length || dstOffset + length > dst.length) {
      throw new Error(
        `GpuBackend.copy: ${length} floats from offset ${srcOffset} of ${src.length} to offset ` +
          `${dstOffset} of ${dst.length}`,
      );
    }
    this.#endPass();
    this.#encoder ??= this.device.createCommandEncoder();
    if (length > 0) {
      this.#encoder.copyBufferToBuffer(
        src.buffer,
        srcOffset * 4,
        dst.buffer,
        dstOffset * 4,
        length * 4,
      );
    }
  }

  /** Submits the recorded dispatches. */
  flush(): void {
    this.#endPass();
    if (this.#encoder !== null) {
      this.device.queue.submit([this.#encoder.finish()]);
      this.#encoder = null;
    }
    this.#recycleUniforms();
  }

  /** Resolves when every submitted dispatch has finished (costs a ~10 ms poll in Deno). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Destroys pooled buffers (live arrays stay valid). */
  trim(): void {
    for (const list of [...this.#pool.values(), ...this.#stagingPool.values()]) {
      for (const b of list) b.destroy();
    }
    this.#pool.clear();
    this.#stagingPool.clear();
  }

  /** Submits pending work, destroys every buffer and the device. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.flush();
    this.trim();
    for (const b of this.#live) b.destroy();
    for (const b of this.#uniformPool) b.destroy();
    this.#live.clear();
    this.#uniformPool = [];
    this.#pipelines.clear();
    this.#destroyed = true;
    this.device.destroy();
  }

  #endPass(): void {
    if (this.#pass !== null) {
      this.#pass.end();
      this.#pass = null;
    }
  }

  #recycleUniforms(): void {
    // A queue.writeBuffer issued after a submit is ordered after it, so these can be reused now.
    if (this.#encoder === null) {
      this.#uniformPool.push(...this.#uniformsInFlight);
      this.#uniformsInFlight = [];
    }
  }

  #checkAlive(op: string): void {
    if (this.#destroyed) throw new Error(`GpuBackend: ${op} after destroy()`);
  }
}

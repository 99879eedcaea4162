/**
 * The `Tensor`, the tape and the no-grad scope.
 *
 * A tensor is a row-major `Float32Array` (or `Float64Array`, used by the gradient checks) with a
 * shape. An op that runs while gradients are enabled and has an input that requires grad records
 * its parents and a backward closure on its output; `backward()` sorts that graph into a tape
 * (reverse topological order) and runs each closure once. Leaf gradients accumulate until they are
 * zeroed; intermediate gradients are dropped after use.
 *
 * @module
 */
import { gemm } from "./backends/cpu/gemm.ts";

/** Element type of a tensor. Training runs in float32; float64 exists for gradient checks. */
export type DType = "float32" | "float64";

/** Storage of a tensor. */
export type FloatArray = Float32Array | Float64Array;

/** Allocates zeroed storage of a dtype. */
export function allocate(dtype: DType, size: number): FloatArray {
  return dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
}

/** The dtype of a storage array. */
export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float32Array ? "float32" : "float64";
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Formats a shape as `[2,3]` for error messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Backward closure of an op: receives the gradient of the op's output. */
export type BackwardFn = (grad: FloatArray) => void;

let gradEnabled = true;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording the graph (acting, evaluation, target computation).
 *
 * @example
 * ```ts
 * const logits = noGrad(() => model.forward(obs));
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Options of the `Tensor` constructor. */
export interface TensorOptions {
  /** Whether gradients flow to this tensor (parameters and checked inputs). */
  requiresGrad?: boolean;
  /** Preallocated gradient storage (e.g. a view into a flat gradient vector). */
  grad?: FloatArray;
  /** Name used in checkpoints and error messages. */
  name?: string;
}

/** An n-dimensional array with an optional gradient. */
export class Tensor {
  /** Row-major storage. */
  readonly data: FloatArray;
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Gradient of the last `backward()` w.r.t. this tensor, or null. */
  grad: FloatArray | null;
  /** Whether gradients flow to (or through) this tensor. */
  requiresGrad: boolean;
  /** Name used in checkpoints and error messages. */
  name: string | undefined;
  /** Inputs of the op that produced this tensor (empty for leaves). */
  parents: readonly Tensor[] = [];
  /** Backward closure of the op that produced this tensor (null for leaves). */
  backwardFn: BackwardFn | null = null;

  constructor(data: FloatArray, shape: readonly number[], options: TensorOptions = {}) {
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new RangeError(
        `Tensor: data has ${data.length} elements, shape ${formatShape(shape)} needs ${size}`,
      );
    }
    if (options.grad && options.grad.length !== size) {
      throw new RangeError(
        `Tensor: grad has ${options.grad.length} elements, shape ${
          formatShape(shape)
        } needs ${size}`,
      );
    }
    this.data = data;
    this.shape = [...shape];
    this.grad = options.grad ?? null;
    this.requiresGrad = options.requiresGrad ?? false;
    this.name = options.name;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Element type. */
  get dtype(): DType {
    return dtypeOf(this.data);
  }

  /** True when no op produced this tensor. */
  get isLeaf(): boolean {
    return this.backwardFn === null;
  }

  /** Returns the gradient storage, allocating zeros on first use. */
  ensureGrad(): FloatArray {
    if (this.grad === null) this.grad = allocate(this.dtype, this.size);
    return this.grad;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new RangeError(
        `item: tensor has shape ${formatShape(this.shape)}, expected one element`,
      );
    }
    return this.data[0];
  }

  /** A tensor sharing this storage that is cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** The values as a plain array (for printing and tests). */
  toArray(): number[] {
    return Array.from(this.data);
  }

  /**
   * Backpropagates from this tensor. Without `grad`, the tensor must hold one element and is
   * seeded with 1.
   */
  backward(grad?: FloatArray): void {
    backward(this, grad);
  }
}

/** Creates a tensor from numbers (float32 unless `dtype` says otherwise). */
export function tensor(
  values: ArrayLike<number>,
  shape: readonly number[] = [values.length],
  options: TensorOptions & { dtype?: DType } = {},
): Tensor {
  const data = allocate(options.dtype ?? "float32", values.length);
  data.set(values);
  return new Tensor(data, shape, options);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape);
}

/**
 * Makes the output tensor of an op. When gradients are enabled and a parent requires grad, the
 * output records its parents and `backward`; otherwise the closure is dropped.
 */
export function result(
  data: FloatArray,
  shape: readonly number[],
  parents: readonly Tensor[],
  backward: BackwardFn,
): Tensor {
  const out = new Tensor(data, shape);
  if (gradEnabled && parents.some((p) => p.requiresGrad)) {
    out.requiresGrad = true;
    out.parents = parents;
    out.backwardFn = backward;
  }
  return out;
}

/** Throws unless both tensors have the same dtype. */
export function assertSameDType(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new TypeError(`${op}: inputs have dtypes ${a.dtype} and ${b.dtype}, expected one dtype`);
  }
}

/** The graph below `root` in reverse topological order (root first): the tape. */
export function tapeOf(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative post-order DFS: a rollout over many steps makes deep graphs.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.parents.length) {
      top[1] = i + 1;
      const parent = node.parents[i];
      if (parent.requiresGrad && !seen.has(parent)) {
        seen.add(parent);
        stack.push([parent, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

/** Products `target += Gᵀ·X` waiting for the end of the backward pass, by target. */
type Deferred = Map<
  FloatArray,
  { m: number; n: number; parts: [FloatArray, FloatArray, number][] }
>;

/** The running backward pass's deferred products (null outside one). */
let deferred: Deferred | null = null;

/**
 * `leaf`'s gradient `+= Gᵀ·X` (G `[rows, m]`, X `[rows, n]`, the gradient `[m, n]`), as the
 * weight gradient of a linear map. Inside a backward pass, and for a leaf (whose gradient no later
 * closure of the pass reads), the product waits for the pass's end and is then taken once over
 * the rows of every call: a rollout's steps each add a few rows (K environments), and one product
 * over all of them runs near the GEMM's full speed where each skinny one (k = K) ran at half.
 * G and X must not change until the pass ends (they are op outputs and their gradients).
 */
export function accumulateWeightGradient(
  leaf: Tensor,
  m: number,
  n: number,
  rows: number,
  g: FloatArray,
  x: FloatArray,
): void {
  const target = leaf.ensureGrad();
  if (deferred === null || !leaf.isLeaf) {
    gemm(true, false, m, n, rows, g, x, target, true);
    return;
  }
  const entry = deferred.get(target);
  if (entry === undefined) deferred.set(target, { m, n, parts: [[g, x, rows]] });
  else entry.parts.push([g, x, rows]);
}

/** Takes the deferred products of a backward pass, one GEMM per target. */
function flush(products: Deferred): void {
  for (const [target, { m, n, parts }] of products) {
    if (parts.length === 1) {
      const [g, x, rows] = parts[0];
      gemm(true, false, m, n, rows, g, x, target, true);
      continue;
    }
    const total = parts.reduce((sum, part) => sum + part[2], 0);
    const dtype = dtypeOf(target);
    const gs = allocate(dtype, total * m), xs = allocate(dtype, total * n);
    let row = 0;
    for (const [g, x, rows] of parts) {
      gs.set(g.subarray(0, rows * m), row * m);
      xs.set(x.subarray(0, rows * n), row * n);
      row += rows;
    }
    gemm(true, false, m, n, total, gs, xs, target, true);
  }
}

/**
 * Backpropagates from `root`. Leaf gradients accumulate (call `zeroGrad` on parameters between
 * updates); gradients of intermediate tensors are released once used.
 */
export function backward(root: Tensor, grad?: FloatArray): void {
  if (!root.requiresGrad) {
    throw new Error("backward: tensor does not require grad (was it computed inside noGrad?)");
  }
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new RangeError(
        `backward: tensor has shape ${
          formatShape(root.shape)
        }; pass a gradient or reduce to one element`,
      );
    }
    grad = allocate(root.dtype, 1);
    grad[0] = 1;
  } else if (grad.length !== root.size) {
    throw new RangeError(
      `backward: gradient has ${grad.length} elements, tensor has ${root.size}`,
    );
  }
  const tape = tapeOf(root);
  const g = root.ensureGrad();
  for (let i = 0; i < g.length; i++) g[i] += grad[i];
  const outer = deferred, products: Deferred = new Map();
  deferred = products;
  try {
    for (const node of tape) {
      if (node.backwardFn === null) continue;
      if (node.grad !== null) node.backwardFn(node.grad);
      node.grad = null;
    }
  } finally {
    deferred = outer;
  }
  flush(products);
}

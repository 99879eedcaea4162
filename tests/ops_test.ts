import assert from "node:assert/strict";
import { checkOp, testValues } from "../autograd/check.ts";
import { noGrad, Tensor, tensor } from "../autograd/tensor.ts";
import {
  add,
  addScalar,
  clamp,
  concat,
  div,
  elu,
  exp,
  flatten,
  gather,
  leakyRelu,
  linear,
  log,
  logSoftmax,
  matmul,
  mean,
  mul,
  mulScalar,
  neg,
  relu,
  reshape,
  sigmoid,
  slice,
  softmax,
  softplus,
  softsign,
  sqrt,
  sub,
  sum,
  tanh,
} from "../autograd/ops/mod.ts";

/** Test input of a shape, deterministic values in [-1, 1) mapped through `map`. */
function input(shape: number[], seed = 1, map: (v: number) => number = (v) => v) {
  let n = 1;
  for (const d of shape) n *= d;
  return { shape, values: Array.from(testValues(n, seed), map) };
}

/** Values in [-1,1) pushed at least 0.1 away from 0 (the kink of relu-like ops). */
const awayFromZero = (v: number) => (v < 0 ? -0.1 + 0.9 * v : 0.1 + 0.9 * v);
/** Values in [0.5, 1.5): safe for log, sqrt and as divisors. */
const positive = (v: number) => 1 + 0.5 * v;

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12) {
  assert.equal(got.length, want.length, "lengths differ");
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])),
      `element ${i}: got ${got[i]}, want ${want[i]}`,
    );
  }
}

const f64 = (values: number[], shape: number[] = [values.length], requiresGrad = false) =>
  tensor(values, shape, { dtype: "float64", requiresGrad });

// ---------------------------------------------------------------------------------------------
// Elementwise binary ops and broadcasting

Deno.test("add/sub/mul/div: same shape", () => {
  const a = input([3, 4], 1);
  const b = input([3, 4], 2, positive);
  checkOp("add", add, [a, b]);
  checkOp("sub", sub, [a, b]);
  checkOp("mul", mul, [a, b]);
  checkOp("div", div, [a, b]);
});

Deno.test("add/sub/mul/div: broadcasting in both directions", () => {
  const cases: [number[], number[]][] = [
    [[2, 3], [3]], // row vector on the right
    [[3], [2, 3]], // row vector on the left
    [[2, 1], [1, 3]], // both stretch
    [[2, 3, 4], [3, 1]], // middle and leading
    [[4, 1, 2], [2]],
    [[2, 3], []], // scalar tensor
    [[], [2, 3]],
  ];
  for (const [sa, sb] of cases) {
    const a = input(sa, 3);
    const b = input(sb, 4, positive);
    for (const [name, op] of [["add", add], ["sub", sub], ["mul", mul], ["div", div]] as const) {
      checkOp(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, op, [a, b]);
    }
  }
});

Deno.test("add: broadcast values and shape", () => {
  const y = add(f64([1, 2, 3, 4, 5, 6], [2, 3]), f64([10, 20, 30]));
  assert.deepEqual(y.shape, [2, 3]);
  assert.deepEqual(y.toArray(), [11, 22, 33, 14, 25, 36]);
  const z = mul(f64([1, 2], [2, 1]), f64([1, 10, 100], [1, 3]));
  assert.deepEqual(z.shape, [2, 3]);
  assert.deepEqual(z.toArray(), [1, 10, 100, 2, 20, 200]);
});

Deno.test("binary ops: a number as either operand", () => {
  const x = input([2, 3], 5, positive);
  checkOp("add(x, 2)", (t) => add(t, 2), [x]);
  checkOp("add(2, x)", (t) => add(2, t), [x]);
  checkOp("sub(x, 2)", (t) => sub(t, 2), [x]);
  checkOp("sub(2, x)", (t) => sub(2, t), [x]);
  checkOp("mul(3, x)", (t) => mul(3, t), [x]);
  checkOp("div(x, 4)", (t) => div(t, 4), [x]);
  checkOp("div(1, x)", (t) => div(1, t), [x]);
  checkOp("addScalar", (t) => addScalar(t, -1.5), [x]);
  checkOp("mulScalar", (t) => mulScalar(t, 0.25), [x]);
  assert.deepEqual(sub(10, f64([1, 2])).toArray(), [9, 8]);
  assert.deepEqual(div(1, f64([2, 4])).toArray(), [0.5, 0.25]);
  assert.throws(() => add(1 as unknown as Tensor, 2), /add: both operands are numbers/);
});

Deno.test("binary ops: the same tensor on both sides", () => {
  checkOp("mul(x, x)", (t) => mul(t, t), [input([5], 6)]);
  checkOp("sub(x, x)", (t) => add(sub(t, t), t), [input([5], 6)]);
});

Deno.test("binary ops: the output dtype follows the inputs", () => {
  const a = tensor([1, 2], [2]);
  assert.equal(add(a, a).dtype, "float32");
  assert.equal(add(a, 1).dtype, "float32");
  assert.equal(div(1, f64([2])).dtype, "float64");
});

// ---------------------------------------------------------------------------------------------
// Unary ops

Deno.test("unary ops: gradients", () => {
  const x = input([3, 5], 7);
  const pos = input([3, 5], 8, positive);
  const kinked = input([3, 5], 9, awayFromZero);
  checkOp("neg", neg, [x]);
  checkOp("exp", exp, [x]);
  checkOp("log", log, [pos]);
  checkOp("sqrt", sqrt, [pos]);
  checkOp("tanh", tanh, [x]);
  checkOp("sigmoid", sigmoid, [input([3, 5], 10, (v) => 8 * v)]);
  checkOp("softplus", softplus, [input([3, 5], 11, (v) => 8 * v)]);
  checkOp("softsign", softsign, [kinked]);
  checkOp("relu", relu, [kinked]);
  checkOp("elu", (t) => elu(t), [kinked]);
  checkOp("elu alpha=0.5", (t) => elu(t, 0.5), [kinked]);
  checkOp("leakyRelu", (t) => leakyRelu(t, 0.2), [kinked]);
});

Deno.test("clamp: passes the gradient inside, 0 outside", () => {
  // Stay ≥ 0.05 away from the bounds −0.5 and 0.5.
  const values = [-0.9, -0.55, -0.45, -0.1, 0.2, 0.45, 0.55, 0.95];
  checkOp("clamp", (t) => clamp(t, -0.5, 0.5), [{ shape: [8], values }]);
  const x = f64(values, [8], true);
  const y = clamp(x, -0.5, 0.5);
  assert.deepEqual(y.toArray(), [-0.5, -0.5, -0.45, -0.1, 0.2, 0.45, 0.5, 0.5]);
  sum(y).backward();
  assert.deepEqual(Array.from(x.grad!), [0, 0, 1, 1, 1, 1, 0, 0]);
  assert.throws(() => clamp(x, 1, 0), /clamp: min 1 is greater than max 0/);
});

Deno.test("activations: float32 ELU (the wasm kernel) against float64 eˣ − 1", () => {
  // Odd length (a padded last vector), both signs, tiny and huge magnitudes, the reduction's
  // boundaries ±½ln 2 and the clamp at −87.
  const values = [-1e-30, -1e-7, -1e-3, -0.3465735, -0.3465736, -0.7, -1, -5.5, -20, -86.9, -87.1];
  values.push(-100, -1e30, 0, -0, 1e-7, 0.5, 3, 1e30);
  for (let i = 0; i < 180; i++) values.push(-30 + i / 6);
  const x = new Tensor(Float32Array.from(values), [values.length], { requiresGrad: true });
  const y = elu(x, 0.7);
  for (let i = 0; i < values.length; i++) {
    const v = x.data[i];
    const want = v > 0 ? v : 0.7 * Math.expm1(v);
    assert.ok(
      Math.abs(y.data[i] - want) <= 5e-7 * Math.abs(want) + 1e-38,
      `elu(${v}) = ${y.data[i]}, expected ${want}`,
    );
  }
  sum(y).backward();
  for (let i = 0; i < values.length; i++) {
    const v = x.data[i], want = v > 0 ? 1 : 0.7 * Math.exp(v);
    assert.ok(Math.abs(x.grad![i] - want) <= 1e-6 * Math.max(1, want), `elu'(${v})`);
  }
});

Deno.test("activations: hand-computed values", () => {
  assertClose(elu(f64([-1, 0, 2])).toArray(), [Math.exp(-1) - 1, 0, 2]);
  assertClose(elu(f64([-2]), 0.5).toArray(), [0.5 * (Math.exp(-2) - 1)]);
  assertClose(leakyRelu(f64([-2, 3]), 0.1).toArray(), [-0.2, 3]);
  assertClose(relu(f64([-2, 0, 3])).toArray(), [0, 0, 3]);
  assertClose(softsign(f64([-3, 1])).toArray(), [-0.75, 0.5]);
  assertClose(sigmoid(f64([0, -1000, 1000])).toArray(), [0.5, 0, 1]);
  // softplus at large |x|: no overflow to Infinity, no underflow of the small tail to 0.
  const sp = softplus(f64([0, 1000, -1000, 50, -50], [5], true));
  assertClose(sp.toArray(), [Math.LN2, 1000, 0, 50, Math.exp(-50)], 1e-15);
  assert.ok(sp.data[4] > 0, "softplus(-50) keeps its tiny positive value");
  sum(sp).backward();
  const x = sp.parents[0];
  assertClose(Array.from(x.grad!), [0.5, 1, 0, 1, Math.exp(-50)], 1e-15);
  const sp32 = softplus(tensor([100, -100]));
  assert.ok(Number.isFinite(sp32.data[0]) && Math.abs(sp32.data[0] - 100) < 1e-4);
});

// ---------------------------------------------------------------------------------------------
// Reductions

Deno.test("sum/mean: all elements and each axis", () => {
  const x = input([2, 3, 4], 12);
  checkOp("sum all", (t) => sum(t), [x]);
  checkOp("mean all", (t) => mean(t), [x]);
  for (const axis of [0, 1, 2, -1]) {
    checkOp(`sum axis ${axis}`, (t) => sum(t, axis), [x]);
    checkOp(`mean axis ${axis}`, (t) => mean(t, axis), [x]);
    checkOp(`sum axis ${axis} keepDims`, (t) => sum(t, axis, { keepDims: true }), [x]);
  }
});

Deno.test("sum/mean: shapes and values", () => {
  const x = f64([1, 2, 3, 4, 5, 6], [2, 3]);
  const total = sum(x);
  assert.deepEqual(total.shape, []);
  assert.equal(total.item(), 21);
  assert.deepEqual(sum(x, undefined, { keepDims: true }).shape, [1, 1]);
  assert.deepEqual(sum(x, 0).toArray(), [5, 7, 9]);
  assert.deepEqual(sum(x, 1).shape, [2]);
  assert.deepEqual(sum(x, -1).toArray(), [6, 15]);
  assert.deepEqual(mean(x, 1, { keepDims: true }).shape, [2, 1]);
  assert.deepEqual(mean(x, 1).toArray(), [2, 5]);
  assert.equal(mean(x).item(), 3.5);
  // keepDims output broadcasts back against the input
  assert.deepEqual(sub(x, mean(x, 1, { keepDims: true })).toArray(), [-1, 0, 1, -1, 0, 1]);
  assert.throws(() => sum(x, 2), /sum: axis 2 is out of range for shape \[2,3\]/);
  assert.throws(() => mean(x, -3), /mean: axis -3 is out of range for shape \[2,3\]/);
});

// ---------------------------------------------------------------------------------------------
// Shape ops

Deno.test("reshape/flatten: share storage, pass gradients", () => {
  const x = f64([1, 2, 3, 4, 5, 6], [2, 3], true);
  const y = reshape(x, [3, -1]);
  assert.deepEqual(y.shape, [3, 2]);
  assert.equal(y.data, x.data, "reshape shares storage");
  checkOp("reshape", (t) => mul(reshape(t, [4, 6]), reshape(t, [4, 6])), [input([2, 3, 4], 13)]);
  checkOp("flatten", (t) => flatten(t), [input([2, 3, 2], 14)]);
  assert.deepEqual(flatten(zeros3()).shape, [2, 12]);
  assert.deepEqual(flatten(zeros3(), 0).shape, [24]);
  assert.deepEqual(flatten(zeros3(), -1).shape, [2, 3, 4]);
  assert.throws(() => reshape(x, [4, -1]), /reshape: cannot reshape \[2,3\] .* to \[4,-1\]/);
  assert.throws(() => reshape(x, [5]), /reshape: cannot reshape \[2,3\] \(6 elements\) to \[5\]/);
});

function zeros3(): Tensor {
  return tensor(new Array(24).fill(0), [2, 3, 4]);
}

Deno.test("concat: each axis", () => {
  for (const axis of [0, 1, 2, -1]) {
    const shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]].map((s) => [...s]);
    const ax = axis < 0 ? axis + 3 : axis;
    shapes[1][ax] = 1;
    shapes[2][ax] = 2;
    checkOp(
      `concat axis ${axis}`,
      (a, b, c) => concat([a, b, c], axis),
      shapes.map((s, i) => input(s, 20 + i)),
    );
  }
  const y = concat([f64([1, 2, 3, 4], [2, 2]), f64([5, 6], [2, 1])], 1);
  assert.deepEqual(y.shape, [2, 3]);
  assert.deepEqual(y.toArray(), [1, 2, 5, 3, 4, 6]);
  assert.throws(
    () => concat([f64([1, 2, 3, 4], [2, 2]), f64([1, 2, 3], [3, 1])], 1),
    /concat: shapes \[2,2\] and \[3,1\] differ outside axis 1/,
  );
  assert.throws(() => concat([]), /concat: no tensors/);
});

Deno.test("slice: each axis, negative bounds", () => {
  const x = input([3, 4, 5], 30);
  checkOp("slice axis 0", (t) => slice(t, 0, 1, 3), [x]);
  checkOp("slice axis 1", (t) => slice(t, 1, 1, 2), [x]);
  checkOp("slice axis 2", (t) => slice(t, -1, 2), [x]);
  checkOp("slice negative", (t) => slice(t, 2, -4, -1), [x]);
  const y = slice(f64([0, 1, 2, 3, 4, 5], [2, 3]), 1, 1);
  assert.deepEqual(y.shape, [2, 2]);
  assert.deepEqual(y.toArray(), [1, 2, 4, 5]);
  assert.throws(
    () => slice(f64([0, 1, 2, 3, 4, 5], [2, 3]), 1, 2, 5),
    /slice: range 2..5 is out of bounds for axis 1 of shape \[2,3\]/,
  );
});

Deno.test("gather: one element per row", () => {
  const actions = Int32Array.of(2, 0, 3, 1, 1);
  checkOp("gather last axis", (t) => gather(t, actions), [input([5, 4], 31)]);
  checkOp("gather axis 0", (t) => gather(t, [1, 0, 2, 2], 0), [input([3, 4], 32)]);
  checkOp("gather middle axis", (t) => gather(t, [0, 1, 2, 1, 0, 0], 1), [input([2, 3, 3], 33)]);
  const y = gather(f64([1, 2, 3, 4, 5, 6], [2, 3]), [2, 0]);
  assert.deepEqual(y.shape, [2]);
  assert.deepEqual(y.toArray(), [3, 4]);
  assert.throws(
    () => gather(f64([1, 2, 3, 4, 5, 6], [2, 3]), [3, 0]),
    /gather: index 3 at position 0 is out of range \[0, 3\)/,
  );
  assert.throws(
    () => gather(f64([1, 2, 3, 4, 5, 6], [2, 3]), [0]),
    /gather: 1 indices for input \[2,3\] along axis 1, expected 2/,
  );
});

// ---------------------------------------------------------------------------------------------
// Softmax

Deno.test("softmax/logSoftmax: gradients along each axis", () => {
  const x = input([3, 4], 40, (v) => 3 * v);
  for (const axis of [-1, 0]) {
    checkOp(`softmax axis ${axis}`, (t) => softmax(t, axis), [x]);
    checkOp(`logSoftmax axis ${axis}`, (t) => logSoftmax(t, axis), [x]);
  }
  const y = input([2, 3, 4], 41, (v) => 3 * v);
  checkOp("softmax middle axis", (t) => softmax(t, 1), [y]);
  checkOp("logSoftmax middle axis", (t) => logSoftmax(t, 1), [y]);
});

Deno.test("softmax/logSoftmax: known logits, stable for large values", () => {
  const lse = Math.log(Math.E + Math.E ** 2 + Math.E ** 3);
  assertClose(logSoftmax(f64([1, 2, 3])).toArray(), [1 - lse, 2 - lse, 3 - lse]);
  assertClose(softmax(f64([1, 2, 3])).toArray(), [1, 2, 3].map((v) => Math.exp(v - lse)));
  // Shifting the logits changes nothing, even far beyond exp's range.
  assertClose(logSoftmax(f64([1001, 1002, 1003])).toArray(), [1 - lse, 2 - lse, 3 - lse]);
  const p32 = softmax(tensor([1000, 1000, -1000, 0], [2, 2]));
  assertClose(p32.toArray(), [0.5, 0.5, 0, 1], 1e-7);
  const rows = sum(softmax(f64(Array.from(testValues(12, 3)), [3, 4])), 1).toArray();
  assertClose(rows, [1, 1, 1]);
});

// ---------------------------------------------------------------------------------------------
// Matrix products

Deno.test("matmul: 2-D, shared and batched 3-D", () => {
  checkOp("matmul 2-D", matmul, [input([3, 4], 50), input([4, 2], 51)]);
  checkOp("matmul [b,m,k]@[k,n]", matmul, [input([2, 3, 4], 52), input([4, 5], 53)]);
  checkOp("matmul batched", matmul, [input([2, 3, 4], 54), input([2, 4, 2], 55)]);
  const c = matmul(f64([1, 2, 3, 4, 5, 6], [2, 3]), f64([1, 0, 0, 1, 1, 1], [3, 2]));
  assert.deepEqual(c.shape, [2, 2]);
  assert.deepEqual(c.toArray(), [4, 5, 10, 11]);
  assert.throws(
    () => matmul(f64(new Array(6).fill(0), [2, 3]), f64(new Array(20).fill(0), [4, 5])),
    /matmul: \[2,3\] @ \[4,5\]: inner dimensions 3 and 4 differ/,
  );
  assert.throws(
    () => matmul(f64([0, 0], [2]), f64([0, 0], [2, 1])),
    /matmul: \[2\] @ \[2,1\]: expected/,
  );
  assert.throws(
    () => matmul(f64(new Array(12).fill(0), [2, 2, 3]), f64(new Array(18).fill(0), [3, 3, 2])),
    /matmul: \[2,2,3\] @ \[3,3,2\]: batch dimensions 2 and 3 differ/,
  );
});

Deno.test("linear: y = x·Wᵀ + b, with and without bias, any leading dimensions", () => {
  checkOp("linear", linear, [input([4, 3], 60), input([2, 3], 61), input([2], 62)]);
  checkOp("linear no bias", (x, w) => linear(x, w), [input([4, 3], 63), input([5, 3], 64)]);
  checkOp("linear 1-D input", linear, [input([3], 65), input([2, 3], 66), input([2], 67)]);
  checkOp("linear 3-D input", linear, [input([2, 3, 4], 68), input([2, 4], 69), input([2], 70)]);
  const y = linear(f64([1, 2, 3, 4], [2, 2]), f64([1, 0, 1, 1, 0, 2], [3, 2]), f64([10, 20, 30]));
  assert.deepEqual(y.shape, [2, 3]);
  assert.deepEqual(y.toArray(), [11, 23, 34, 13, 27, 38]);
  assert.throws(
    () => linear(f64(new Array(6).fill(0), [2, 3]), f64(new Array(8).fill(0), [2, 4])),
    /linear: input \[2,3\] and weight \[2,4\]: input has 3 features, weight expects 4/,
  );
  assert.throws(
    () => linear(f64([0, 0], [1, 2]), f64([0, 0, 0, 0], [2, 2]), f64([0, 0, 0])),
    /linear: bias \[3\] does not match weight \[2,2\]: expected \[2\]/,
  );
});

Deno.test("linear: gradients accumulate into preallocated views of a flat vector", () => {
  // Parameters as views into one flat vector, gradients into another (as the models hold them).
  const flat = Float32Array.from(testValues(8, 80));
  const flatGrad = new Float32Array(8).fill(0.5);
  const weight = new Tensor(flat.subarray(0, 6), [2, 3], {
    requiresGrad: true,
    grad: flatGrad.subarray(0, 6),
  });
  const bias = new Tensor(flat.subarray(6, 8), [2], {
    requiresGrad: true,
    grad: flatGrad.subarray(6, 8),
  });
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  sum(linear(x, weight, bias)).backward();
  // dW = dYᵀ·X with dY all ones: column sums of X; db = number of rows; both on top of 0.5.
  assertClose(Array.from(flatGrad), [5.5, 7.5, 9.5, 5.5, 7.5, 9.5, 2.5, 2.5]);
  sum(linear(x, weight, bias)).backward();
  assertClose(Array.from(flatGrad), [10.5, 14.5, 18.5, 10.5, 14.5, 18.5, 4.5, 4.5]);
  assert.equal(weight.grad!.buffer, flatGrad.buffer, "gradient stays a view");
});

// ---------------------------------------------------------------------------------------------
// Compositions used by the losses

Deno.test("composition: entropy −Σ p·log p from softmax and logSoftmax", () => {
  const entropy = (logits: Tensor) => neg(sum(mul(softmax(logits), logSoftmax(logits)), -1));
  checkOp("entropy", entropy, [input([5, 4], 90, (v) => 2 * v)]);
  // Uniform logits have the maximal entropy log(n).
  assertClose(entropy(f64([0.3, 0.3, 0.3, 0.3], [1, 4])).toArray(), [Math.log(4)]);
  // The A3C policy loss term: −log π(a) · advantage − β·H, summed over the rollout.
  const actions = [1, 0, 3, 2, 2];
  const advantages = input([5], 92);
  checkOp(
    "policy loss",
    (logits, adv) => {
      const logProbs = logSoftmax(logits);
      const taken = gather(logProbs, actions);
      const h = neg(sum(mul(exp(logProbs), logProbs), -1));
      return sum(sub(neg(mul(taken, adv)), mulScalar(h, 0.01)));
    },
    [input([5, 4], 91), advantages],
    { wrt: [0] },
  );
});

Deno.test("composition: diagonal-Gaussian log-prob, gradients to μ and σ²", () => {
  // logp = Σ_d −(a−μ)²/(2σ²) − ½·log(2πσ²)
  const logProb = (a: Tensor, mu: Tensor, variance: Tensor) => {
    const d = sub(a, mu);
    const quad = div(mul(d, d), mulScalar(variance, 2));
    const norm = mulScalar(log(mulScalar(variance, 2 * Math.PI)), 0.5);
    return sum(neg(add(quad, norm)), -1);
  };
  checkOp(
    "gaussian log-prob",
    logProb,
    [input([3, 2], 100), input([3, 2], 101), input([3, 2], 102, positive)],
    { wrt: [1, 2] },
  );
  // σ² shared across the batch ([2] against [3,2]) as in the continuous-control heads.
  checkOp(
    "gaussian log-prob, broadcast variance",
    logProb,
    [input([3, 2], 103), input([3, 2], 104), input([2], 105, positive)],
    { wrt: [1, 2] },
  );
  // Standard normal at a = μ: −½·log(2π) per dimension.
  const lp = logProb(f64([0, 0], [1, 2]), f64([0, 0], [1, 2]), f64([1, 1], [1, 2]));
  assertClose(lp.toArray(), [-Math.log(2 * Math.PI)]);
});

// ---------------------------------------------------------------------------------------------
// Validation and graph recording

Deno.test("errors name the op and both shapes", () => {
  const a = f64(new Array(6).fill(1), [2, 3]);
  const b = f64(new Array(4).fill(1), [4]);
  assert.throws(() => add(a, b), (e: Error) => {
    assert.ok(e instanceof RangeError);
    assert.equal(e.message, "add: shapes [2,3] and [4] do not broadcast");
    return true;
  });
  assert.throws(() => sub(b, a), /sub: shapes \[4\] and \[2,3\] do not broadcast/);
  assert.throws(() => mul(a, b), /mul: shapes \[2,3\] and \[4\] do not broadcast/);
  assert.throws(() => div(a, b), /div: shapes \[2,3\] and \[4\] do not broadcast/);
});

Deno.test("mixed dtypes and bad axes are rejected", () => {
  const a32 = tensor([1, 2, 3, 4], [2, 2]);
  const a64 = f64([1, 2, 3, 4], [2, 2]);
  const mixed = /inputs have dtypes float32 and float64/;
  assert.throws(() => add(a32, a64), (e: Error) => e instanceof TypeError && mixed.test(e.message));
  assert.throws(() => mul(a32, a64), /mul: inputs have dtypes/);
  assert.throws(() => matmul(a32, a64), /matmul: inputs have dtypes/);
  assert.throws(() => linear(a32, a64), /linear: inputs have dtypes/);
  assert.throws(() => concat([a32, a64], 0), /concat: inputs have dtypes/);
  assert.throws(() => softmax(a32, 2), /softmax: axis 2 is out of range for shape \[2,2\]/);
  assert.throws(() => logSoftmax(a32, -3), /logSoftmax: axis -3 is out of range/);
  assert.throws(() => slice(a32, 5, 0, 1), /slice: axis 5 is out of range/);
  assert.throws(() => gather(a32, [0, 0], 1.5), /gather: axis 1.5 is out of range/);
  assert.throws(() => concat([a32], 3), /concat: axis 3 is out of range/);
});

Deno.test("ops record nothing under noGrad and leave inputs without grad untouched", () => {
  const x = tensor([1, 2, 3], [3], { requiresGrad: true });
  const y = noGrad(() => sum(softmax(add(mul(x, 2), x))));
  assert.equal(y.requiresGrad, false);
  const c = tensor([1, 1, 1]);
  sum(mul(x, c)).backward();
  assert.equal(c.grad, null, "constants get no gradient");
  assert.deepEqual(Array.from(x.grad!), [1, 1, 1]);
});

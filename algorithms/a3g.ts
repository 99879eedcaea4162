/**
 * A3G's model backend: the learner of `learner.ts` (K environments, one batched forward per step)
 * on a GPU copy of the model.
 *
 * Each rollout loads the shared parameters into the GPU weights; every step is one batched forward
 * and one readback of the logits and values. The loss gradient with respect to the logits and values
 * is computed on the CPU by the same loss as A3C (`rolloutLoss`), applied to leaf tensors holding
 * what was read back; the GPU then re-runs the forward over all T·K rows with a tape and
 * backpropagates that gradient, and the parameter gradient comes back in one readback. With K = 1
 * this is rl_a3c_pytorch's A3G; with K > 1 the update is the sum of the K environments' A3C
 * gradients (tf-a3c-gpu's batched agents).
 *
 * For a categorical policy, per row (p = softmax(z), H = −Σ p log p), what autograd computes is:
 *
 * ```text
 * ∂L/∂z_j = −A·(1[j = a] − p_j) + β·p_j·(log p_j + H)
 * ∂L/∂V   = valueCoef·(V − R)
 * ```
 *
 * @module
 */
import type { GpuArray, GpuBackend } from "../autograd/backends/webgpu/mod.ts";
import { Parameters } from "../autograd/parameters.ts";
import { Tensor } from "../autograd/tensor.ts";
import type { GpuActorCritic, GpuLstmState } from "../models/gpu_actor_critic.ts";
import type { PolicyKind, PolicyOutputs } from "../models/heads.ts";
import type { ActOutputs, PolicyBackend, Rollout } from "./learner.ts";

/** The GPU backend of the learner: a `GpuActorCritic` acting for K environments at once. */
export class GpuPolicy implements PolicyBackend {
  readonly policy: PolicyKind;
  readonly observationSize: number;
  readonly #gpu: GpuBackend;
  #state: GpuLstmState | null;
  #state0: GpuLstmState | null = null;
  #observations = new Float32Array(0);
  #logits = new Float32Array(0);
  #values = new Float32Array(0);
  #masks: (GpuArray | null)[] = [];
  #obsStep: GpuArray | null = null;
  #recorded = 0;
  /** Where the gradient is read back to: a store of the model's layout, for its norm and clip. */
  readonly #gradients: Parameters;

  /** @param batch the environments K acted for at once */
  constructor(readonly model: GpuActorCritic, readonly batch: number) {
    this.#gpu = model.backend;
    this.policy = { kind: "categorical", actions: model.actions };
    this.observationSize = model.observationSize;
    this.#state = model.initialState(batch);
    this.#gradients = Parameters.fromLayout(model.layout);
  }

  begin(shared: Float32Array, steps: number): void {
    const K = this.batch, gpu = this.#gpu;
    this.model.load(shared);
    const rows = steps * K;
    if (this.#values.length !== rows) {
      this.#observations = new Float32Array(rows * this.observationSize);
      this.#logits = new Float32Array(rows * this.model.actions);
      this.#values = new Float32Array(rows);
    }
    this.#obsStep ??= gpu.allocate(K * this.observationSize);
    this.#recorded = 0;
    this.#releaseRollout();
    if (this.#state !== null) {
      this.#state0 = {
        h: gpu.allocate(this.#state.h.length),
        c: gpu.allocate(this.#state.c.length),
      };
      gpu.copy(this.#state.h, this.#state0.h);
      gpu.copy(this.#state.c, this.#state0.c);
    }
  }

  async act(
    observations: Float32Array,
    resets: Float32Array | null,
    record: boolean,
  ): Promise<ActOutputs> {
    const gpu = this.#gpu, K = this.batch;
    const mask = resets === null ? null : gpu.upload(resets);
    gpu.write(this.#obsStep!, observations);
    const out = this.model.forward(this.#obsStep!, 1, K, this.#state, [mask]);
    const [logits, values] = await gpu.readMany([out.logits, out.value]);
    gpu.free(out.logits);
    gpu.free(out.value);
    if (record) {
      const t = this.#recorded++;
      this.#observations.set(observations, t * K * this.observationSize);
      this.#logits.set(logits, t * K * this.model.actions);
      this.#values.set(values, t * K);
      this.#masks.push(mask);
      this.model.freeState(this.#state);
      this.#state = out.state;
    } else {
      // The bootstrap forward: the state stays where the rollout left it.
      this.model.freeState(out.state);
      if (mask !== null) gpu.free(mask);
    }
    return { logits, values };
  }

  async gradient(rollout: Rollout, loss: (outputs: PolicyOutputs) => Tensor): Promise<Parameters> {
    const gpu = this.#gpu, model = this.model;
    const { steps, batch: K } = rollout;
    const rows = steps * K, A = model.actions;
    // The loss gradient with respect to what the acting forwards read back.
    const logits = new Tensor(this.#logits.subarray(0, rows * A), [rows, A], {
      requiresGrad: true,
    });
    const value = new Tensor(this.#values.subarray(0, rows), [rows], { requiresGrad: true });
    loss({ logits, value }).backward();
    const dLogits = gpu.upload(logits.grad as Float32Array);
    const dValues = gpu.upload(value.grad as Float32Array);
    const obs = gpu.upload(this.#observations.subarray(0, rows * this.observationSize));
    const train = model.forward(obs, steps, K, this.#state0, this.#masks, true);
    model.backward(train.tape!, dLogits, dValues);
    const grads = this.#gradients;
    await model.readGradients(grads.grad);
    model.release(train.tape!);
    for (const a of [train.logits, train.value, dLogits, dValues, obs]) gpu.free(a);
    this.#releaseRollout();
    return grads;
  }

  #releaseRollout(): void {
    for (const m of this.#masks) if (m !== null) this.#gpu.free(m);
    this.#masks = [];
    this.model.freeState(this.#state0);
    this.#state0 = null;
  }

  /** Frees the backend's GPU state (not the model). */
  dispose(): void {
    this.#releaseRollout();
    this.model.freeState(this.#state);
    this.#state = null;
    if (this.#obsStep !== null) this.#gpu.free(this.#obsStep);
    this.#obsStep = null;
  }
}

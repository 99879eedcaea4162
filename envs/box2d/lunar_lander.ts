/**
 * LunarLander-v3 and LunarLanderContinuous-v3 (Gymnasium's `lunar_lander.py`) on planck.
 *
 * As for the walker, gravity is set explicitly (planck's default is zero), the leg joints get
 * `referenceAngle: 0` as Box2D's def default, and sleeping stays on: the +100 for landing is given
 * when the lander falls asleep.
 *
 * @module
 */
import type { Body, Contact } from "npm:planck@1.5.0";
import { Box, Edge, Polygon, RevoluteJoint, World } from "npm:planck@1.5.0";
import {
  type Action,
  box,
  type BoxSpace,
  discrete,
  type DiscreteSpace,
  type Env,
  EnvError,
  type ResetOptions,
  type ResetResult,
  type RgbFrame,
  type StepResult,
} from "../core.ts";
import type { Rng } from "../../autograd/random.ts";
import {
  applyResetOptions,
  boolOption,
  checkOptionNames,
  entropyRng,
  numberOption,
  readBoxAction,
  readDiscreteAction,
} from "./checks.ts";
import { type Point, Raster, type Rgb } from "../render.ts";

const FPS = 50;
const SCALE = 30;
const MAIN_ENGINE_POWER = 13;
const SIDE_ENGINE_POWER = 0.6;
const INITIAL_RANDOM = 1000;
const LANDER_POLY: readonly Point[] = [[-14, 17], [-17, 0], [-17, -10], [17, -10], [17, 0], [
  14,
  17,
]];
const LEG_AWAY = 20;
const LEG_DOWN = 18;
const LEG_W = 2;
const LEG_H = 8;
const LEG_SPRING_TORQUE = 40;
const SIDE_ENGINE_HEIGHT = 14;
const SIDE_ENGINE_AWAY = 12;
const MAIN_ENGINE_Y_LOCATION = 4;
const VIEWPORT_W = 600;
const VIEWPORT_H = 400;
const W = VIEWPORT_W / SCALE;
const H = VIEWPORT_H / SCALE;
const CHUNKS = 11;

/** Options of {@link LunarLander}. */
export interface LunarLanderOptions {
  /** Box(2) throttle actions instead of 4 discrete ones. Default false. */
  continuous?: boolean;
  /** Gravity, in (−12, 0). Default −10. */
  gravity?: number;
  /** Wind and turbulence while the legs are off the ground. Default false. */
  enableWind?: boolean;
  /** Peak wind force, used with `enableWind`. Default 15. */
  windPower?: number;
  /** Peak turbulence torque, used with `enableWind`. Default 1.5. */
  turbulencePower?: number;
}

/** The option names {@link LunarLander} accepts. */
export const LUNAR_LANDER_OPTIONS: readonly string[] = [
  "continuous",
  "gravity",
  "enableWind",
  "windPower",
  "turbulencePower",
];

/**
 * Land between the flags: an 8-value observation (position, velocity, angle, angular velocity,
 * leg contacts), shaping reward for approaching the pad slowly and level, fuel costs, −100 for a
 * crash or leaving the screen, +100 for coming to rest. Discrete actions: 0 nothing, 1 left
 * engine, 2 main engine, 3 right engine. Continuous: [main, lateral] in [-1, 1]. Observations are
 * fresh arrays; the env does not reuse them.
 *
 * @example
 * ```ts
 * const env = new LunarLander({ continuous: true });
 * env.reset({ seed: 0 });
 * const { reward, terminated } = env.step([0.5, 0]);
 * ```
 */
export class LunarLander implements Env<Float32Array> {
  /** `LunarLander-v3`, or `LunarLanderContinuous-v3` with `continuous`. */
  readonly id: string;
  /** Box(8): x, y, vx, vy, angle, angular velocity, left and right leg contact. */
  readonly observationSpace: BoxSpace;
  /** Discrete(4), or Box(-1, 1, 2) with `continuous`. */
  readonly actionSpace: DiscreteSpace | BoxSpace;
  /** Whether actions are throttles. */
  readonly continuous: boolean;
  /** The gravity the world is made with. */
  readonly gravity: number;
  /** Whether wind and turbulence push the lander. */
  readonly enableWind: boolean;
  /** Peak wind force (with `enableWind`). */
  readonly windPower: number;
  /** Peak turbulence torque (with `enableWind`). */
  readonly turbulencePower: number;

  #rng: Rng = entropyRng();
  #world: World | null = null;
  #lander: Body | null = null;
  #legs: Body[] = [];
  #legContact = [false, false];
  #gameOver = false;
  #prevShaping: number | null = null;
  /** null before the first reset; true once the episode has ended. */
  #done: boolean | null = null;
  #closed = false;
  #action = new Float64Array(2);
  #helipadX1 = 0;
  #helipadX2 = 0;
  #helipadY = 0;
  #skyPolys: Point[][] = [];
  #windIdx = 0;
  #torqueIdx = 0;
  #lastPower: [number, number] = [0, 0];

  constructor(options: LunarLanderOptions = {}) {
    const name = "LunarLander-v3";
    checkOptionNames(name, "make", options, LUNAR_LANDER_OPTIONS);
    this.continuous = boolOption(name, "continuous", options.continuous, false);
    this.gravity = numberOption(name, "gravity", options.gravity, -10, -12, 0, true);
    this.enableWind = boolOption(name, "enableWind", options.enableWind, false);
    this.windPower = numberOption(name, "windPower", options.windPower, 15, 0, Infinity);
    this.turbulencePower = numberOption(
      name,
      "turbulencePower",
      options.turbulencePower,
      1.5,
      0,
      Infinity,
    );
    this.id = this.continuous ? "LunarLanderContinuous-v3" : "LunarLander-v3";
    this.observationSpace = box(
      [8],
      [-2.5, -2.5, -10, -10, -2 * Math.PI, -10, -0, -0],
      [2.5, 2.5, 10, 10, 2 * Math.PI, 10, 1, 1],
    );
    this.actionSpace = this.continuous ? box([2], -1, 1) : discrete(4);
  }

  /** Builds a new moon surface and lander (with its random push) and takes one idle step. */
  reset(options?: ResetOptions): ResetResult<Float32Array> {
    if (this.#closed) throw new EnvError(`${this.id}: the env is closed`);
    applyResetOptions(this.id, this.#rng, options);
    const rng = this.#rng;
    // a fresh world each episode, as Gymnasium does
    const world = new World({ gravity: { x: 0, y: this.gravity } });
    this.#world = world;
    this.#gameOver = false;
    this.#prevShaping = null;
    this.#legContact = [false, false];

    const height = Array.from({ length: CHUNKS + 1 }, () => rng.uniform(0, H / 2));
    const chunkX = Array.from({ length: CHUNKS }, (_, i) => W / (CHUNKS - 1) * i);
    const mid = Math.floor(CHUNKS / 2);
    this.#helipadX1 = chunkX[mid - 1];
    this.#helipadX2 = chunkX[mid + 1];
    this.#helipadY = H / 4;
    for (let k = -2; k <= 2; k++) height[mid + k] = this.#helipadY;
    // index −1 wraps to the last height, as Python's does
    const smoothY = chunkX.map((_, i) =>
      0.33 * (height[(i - 1 + height.length) % height.length] + height[i] + height[i + 1])
    );

    const moon = world.createBody({ type: "static" });
    moon.createFixture({ shape: new Edge({ x: 0, y: 0 }, { x: W, y: 0 }) });
    this.#skyPolys = [];
    for (let i = 0; i < CHUNKS - 1; i++) {
      const p1: Point = [chunkX[i], smoothY[i]];
      const p2: Point = [chunkX[i + 1], smoothY[i + 1]];
      moon.createFixture({
        shape: new Edge({ x: p1[0], y: p1[1] }, { x: p2[0], y: p2[1] }),
        density: 0,
        friction: 0.1,
      });
      this.#skyPolys.push([p1, p2, [p2[0], H], [p1[0], H]]);
    }

    const initialX = W / 2, initialY = H;
    const lander = world.createDynamicBody({ position: { x: initialX, y: initialY }, angle: 0 });
    lander.createFixture({
      shape: new Polygon(LANDER_POLY.map(([x, y]) => ({ x: x / SCALE, y: y / SCALE }))),
      density: 5,
      friction: 0.1,
      filterCategoryBits: 0x0010,
      filterMaskBits: 0x001,
      restitution: 0,
    });
    lander.applyForceToCenter({
      x: rng.uniform(-INITIAL_RANDOM, INITIAL_RANDOM),
      y: rng.uniform(-INITIAL_RANDOM, INITIAL_RANDOM),
    }, true);
    this.#lander = lander;
    if (this.enableWind) {
      this.#windIdx = rng.integer(-9999, 9998);
      this.#torqueIdx = rng.integer(-9999, 9998);
    }

    this.#legs = [];
    for (const i of [-1, 1]) {
      const leg = world.createDynamicBody({
        position: { x: initialX - i * LEG_AWAY / SCALE, y: initialY },
        angle: i * 0.05,
      });
      leg.createFixture({
        shape: new Box(LEG_W / SCALE, LEG_H / SCALE),
        density: 1,
        restitution: 0,
        filterCategoryBits: 0x0020,
        filterMaskBits: 0x001,
      });
      world.createJoint(
        new RevoluteJoint({
          bodyA: lander,
          bodyB: leg,
          localAnchorA: { x: 0, y: 0 },
          localAnchorB: { x: i * LEG_AWAY / SCALE, y: LEG_DOWN / SCALE },
          referenceAngle: 0,
          enableMotor: true,
          enableLimit: true,
          maxMotorTorque: LEG_SPRING_TORQUE,
          motorSpeed: 0.3 * i, // low enough not to jump back into the sky
          // the legs may swing within half a radian of their splayed rest angle
          lowerAngle: i === -1 ? 0.9 - 0.5 : -0.9,
          upperAngle: i === -1 ? 0.9 : -0.9 + 0.5,
        }),
      );
      this.#legs.push(leg);
    }

    world.on("begin-contact", (c: Contact) => this.#contact(c, true));
    world.on("end-contact", (c: Contact) => this.#contact(c, false));

    this.#done = false;
    const first = this.continuous ? this.#advance(0, 0, true) : this.#advance(0, 0, false);
    return { observation: first.observation, info: {} };
  }

  /**
   * Fires the engines and advances 1/50 s. Continuous actions are clipped to [-1, 1]: the main
   * engine fires when `a[0] > 0` (at 50–100% power), a side engine when `|a[1]| > 0.5`.
   */
  step(action: Action): StepResult<Float32Array> {
    if (this.#closed) throw new EnvError(`${this.id}: the env is closed`);
    if (this.#done === null) throw new EnvError(`${this.id}: step called before reset`);
    if (this.#done) {
      throw new EnvError(`${this.id}: step called after the episode ended; call reset first`);
    }
    if (this.continuous) {
      readBoxAction(this.id, action, 2, this.#action);
      return this.#advance(this.#action[0], this.#action[1], true);
    }
    return this.#advance(readDiscreteAction(this.id, action, 4), 0, false);
  }

  #advance(a0: number, a1: number, continuous: boolean): StepResult<Float32Array> {
    const lander = this.#lander!, world = this.#world!;
    if (this.enableWind && !(this.#legContact[0] || this.#legContact[1])) {
      // a smooth quasi-periodic gust pattern, as Gymnasium computes it
      const wind = Math.tanh(
        Math.sin(0.02 * this.#windIdx) + Math.sin(Math.PI * 0.01 * this.#windIdx),
      ) * this.windPower;
      this.#windIdx++;
      lander.applyForceToCenter({ x: wind, y: 0 }, true);
      const torque = Math.tanh(
        Math.sin(0.02 * this.#torqueIdx) + Math.sin(Math.PI * 0.01 * this.#torqueIdx),
      ) * this.turbulencePower;
      this.#torqueIdx++;
      lander.applyTorque(torque, true);
    }

    const angle = lander.getAngle();
    const tip = [Math.sin(angle), Math.cos(angle)];
    const side = [-tip[1], tip[0]];
    // drawn every step, fired or not, so the stream does not depend on the actions
    const dispersion = [this.#rng.uniform(-1, 1) / SCALE, this.#rng.uniform(-1, 1) / SCALE];

    let mPower = 0;
    if (continuous ? a0 > 0 : a0 === 2) {
      mPower = continuous ? (Math.min(Math.max(a0, 0), 1) + 1) * 0.5 : 1;
      const ox = tip[0] * (MAIN_ENGINE_Y_LOCATION / SCALE + 2 * dispersion[0]) +
        side[0] * dispersion[1];
      const oy = -tip[1] * (MAIN_ENGINE_Y_LOCATION / SCALE + 2 * dispersion[0]) -
        side[1] * dispersion[1];
      const p = lander.getPosition();
      lander.applyLinearImpulse(
        { x: -ox * MAIN_ENGINE_POWER * mPower, y: -oy * MAIN_ENGINE_POWER * mPower },
        { x: p.x + ox, y: p.y + oy },
        true,
      );
    }

    let sPower = 0;
    if (continuous ? Math.abs(a1) > 0.5 : a0 === 1 || a0 === 3) {
      const direction = continuous ? Math.sign(a1) : a0 - 2;
      sPower = continuous ? Math.min(Math.max(Math.abs(a1), 0.5), 1) : 1;
      const ox = tip[0] * dispersion[0] +
        side[0] * (3 * dispersion[1] + direction * SIDE_ENGINE_AWAY / SCALE);
      const oy = -tip[1] * dispersion[0] -
        side[1] * (3 * dispersion[1] + direction * SIDE_ENGINE_AWAY / SCALE);
      const p = lander.getPosition();
      // Gymnasium's x offset uses 17 px where SIDE_ENGINE_HEIGHT (14) seems meant; kept as is
      lander.applyLinearImpulse(
        { x: -ox * SIDE_ENGINE_POWER * sPower, y: -oy * SIDE_ENGINE_POWER * sPower },
        { x: p.x + ox - tip[0] * 17 / SCALE, y: p.y + oy + tip[1] * SIDE_ENGINE_HEIGHT / SCALE },
        true,
      );
    }
    this.#lastPower = [mPower, sPower];

    world.step(1 / FPS, 6 * 30, 2 * 30);

    const pos = lander.getPosition();
    const vel = lander.getLinearVelocity();
    const s = [
      (pos.x - W / 2) / (W / 2),
      (pos.y - (this.#helipadY + LEG_DOWN / SCALE)) / (H / 2),
      vel.x * (W / 2) / FPS,
      vel.y * (H / 2) / FPS,
      lander.getAngle(),
      20 * lander.getAngularVelocity() / FPS,
      this.#legContact[0] ? 1 : 0,
      this.#legContact[1] ? 1 : 0,
    ];
    // ten points per leg down: lifting off again after landing costs them back
    const shaping = -100 * Math.hypot(s[0], s[1]) - 100 * Math.hypot(s[2], s[3]) -
      100 * Math.abs(s[4]) + 10 * s[6] + 10 * s[7];
    let reward = this.#prevShaping === null ? 0 : shaping - this.#prevShaping;
    this.#prevShaping = shaping;
    reward -= mPower * 0.3;
    reward -= sPower * 0.03;

    let terminated = false;
    if (this.#gameOver || Math.abs(s[0]) >= 1) {
      terminated = true;
      reward = -100;
    }
    if (!lander.isAwake()) {
      terminated = true;
      reward = 100;
    }
    this.#done = terminated;
    return {
      observation: Float32Array.from(s),
      reward,
      terminated,
      truncated: false,
      info: {},
    };
  }

  #contact(c: Contact, begin: boolean): void {
    const a = c.getFixtureA().getBody(), b = c.getFixtureB().getBody();
    if (begin && (a === this.#lander || b === this.#lander)) this.#gameOver = true;
    for (let i = 0; i < 2; i++) {
      if (a === this.#legs[i] || b === this.#legs[i]) this.#legContact[i] = begin;
    }
  }

  /** The helipad's span and height (metres); for tests and viewers. */
  helipad(): { x1: number; x2: number; y: number } {
    return { x1: this.#helipadX1, x2: this.#helipadX2, y: this.#helipadY };
  }

  /** The lander's position (metres), angle and whether Box2D still simulates it (awake). */
  landerState(): { x: number; y: number; angle: number; awake: boolean } {
    if (this.#done === null || !this.#lander) throw new EnvError(`${this.id}: call reset first`);
    const p = this.#lander.getPosition();
    return { x: p.x, y: p.y, angle: this.#lander.getAngle(), awake: this.#lander.isAwake() };
  }

  /** A 600×400 frame: the moon, the flags, the lander and its legs, and the engines' flames. */
  render(): RgbFrame {
    if (this.#closed) throw new EnvError(`${this.id}: the env is closed`);
    if (this.#done === null) throw new EnvError(`${this.id}: call reset first`);
    const r = new Raster(VIEWPORT_W, VIEWPORT_H);
    const toPx = (x: number, y: number): Point => [x * SCALE, VIEWPORT_H - y * SCALE];
    r.clear([255, 255, 255]);
    for (const p of this.#skyPolys) r.fillPolygon(p.map(([x, y]) => toPx(x, y)), [0, 0, 0]);

    const lander = this.#lander!;
    const drawBody = (body: Body, fill: Rgb, stroke: Rgb) => {
      for (let fx = body.getFixtureList(); fx; fx = fx.getNext()) {
        const shape = fx.getShape() as Polygon;
        const pts = shape.m_vertices.map((v) => {
          const w = body.getWorldPoint(v);
          return toPx(w.x, w.y);
        });
        r.fillPolygon(pts, fill);
        r.strokePolygon(pts, stroke);
      }
    };
    // a flame below the nozzle stands in for Gymnasium's particles
    const [mPower, sPower] = this.#lastPower;
    if (mPower > 0) {
      const a = lander.getWorldPoint({ x: -4 / SCALE, y: -10 / SCALE });
      const b = lander.getWorldPoint({ x: 4 / SCALE, y: -10 / SCALE });
      const tip = lander.getWorldPoint({ x: 0, y: (-10 - 25 * mPower) / SCALE });
      r.fillPolygon([toPx(a.x, a.y), toPx(b.x, b.y), toPx(tip.x, tip.y)], [255, 128, 0]);
    }
    if (sPower > 0) {
      const c = lander.getWorldPoint({ x: 0, y: SIDE_ENGINE_HEIGHT / SCALE });
      r.fillPolygon(
        [toPx(c.x - 0.1, c.y), toPx(c.x + 0.1, c.y), toPx(c.x, c.y - 0.1)],
        [255, 128, 0],
      );
    }
    for (const leg of this.#legs) drawBody(leg, [128, 102, 230], [77, 77, 128]);
    drawBody(lander, [128, 102, 230], [77, 77, 128]);

    for (const x of [this.#helipadX1, this.#helipadX2]) {
      const y1 = this.#helipadY, y2 = y1 + 50 / SCALE;
      r.line(toPx(x, y1), toPx(x, y2), [255, 255, 255]);
      r.fillPolygon(
        [toPx(x, y2), toPx(x, y2 - 10 / SCALE), toPx(x + 25 / SCALE, y2 - 5 / SCALE)],
        [204, 204, 0],
      );
    }
    return r.frame();
  }

  /** Releases the world; the env cannot be used afterwards. */
  close(): void {
    this.#world = null;
    this.#lander = null;
    this.#legs = [];
    this.#closed = true;
  }
}

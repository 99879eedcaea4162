/**
 * Pong (Atari 2600 "Video Olympics" game 1 as the ALE exposes it), re-implemented with integer
 * physics to the ALE's observable contract.
 *
 * - Screen: score area rows 0–23 (CPU score in orange on the left, agent score in green on the
 *   right), white walls at rows 24–33 and 194–209, brown playfield rows 34–193; CPU paddle at
 *   x 16–19 (orange), agent paddle at x 140–143 (green), 4×16 px; ball 2×4 px, white.
 * - Controls: the agent holds a paddle controller. As in the ALE, RIGHT turns the knob one way
 *   (paddle up) and LEFT the other (paddle down) by 23,000 units of resistance per frame over
 *   [27,450, 790,196], about 33 frames for a full sweep. The game reads the knob with one frame of
 *   delay and its paddle closes half the remaining distance each frame, so it keeps gliding for
 *   a few frames after the knob stops (the lag/inertia the ALE's Pong shows).
 * - The CPU paddle follows the ball with a speed limit (2.5 px on 7 of 8 frames), aiming at a
 *   point of its paddle drawn afresh (seeded) for each return, so steep shots beat it. Where the
 *   ball meets a paddle (five sections) sets the slope of the return; the ball speeds up every 4
 *   hits of a rally, and hitting with FIRE held sends it back faster still.
 * - After each point the ball vanishes for 60 frames and is served from mid-court towards the
 *   side that conceded, at a height and angle drawn from the env's seeded generator.
 * - Reward +1 / −1 per point; the game ends when a side reaches 21. No lives.
 *
 * Calibration: see {@link PONG_CALIBRATION}. The CPU speed, its aim spread, the serve pause and
 * the ball speeds were tuned so that random play lands on the ALE's random baseline (−20.7) with
 * games of about 3,000 frames.
 *
 * @module
 */
import { type AtariGame, INPUT_FIRE, INPUT_LEFT, INPUT_RIGHT } from "./ale_env.ts";
import type { Rng } from "../../autograd/random.ts";
import { colour, type Screen } from "./screen.ts";

/** Pong's palette (the ALE's NTSC colours). */
export const PONG_COLOURS = {
  background: colour(144, 72, 17),
  wall: colour(236, 236, 236),
  ball: colour(236, 236, 236),
  cpu: colour(213, 130, 74),
  agent: colour(92, 186, 92),
} as const;

/**
 * Measured with `playGames` (`measure.ts`) over 100 games of `PongNoFrameskip-v4` (env seeds 0–99,
 * policy generators seeded 1000–1099): mean score and mean game length in emulated frames.
 *
 * | policy | mean score | range | mean frames |
 * |---|---|---|---|
 * | uniformly random | −20.70 | −21 … −19 | 3,174 |
 * | ball tracking (`pongTrackingPolicy`) | +16.88 | +10 … +21 | 36,381 |
 * | intercepting, FIRE held (`pongInterceptPolicy()`), every frame | +20.75 | +19 … +21 | 20,488 |
 * | the same, one choice held for 4 frames (`pongInterceptPolicy(4)`) | +18.65 | +14 … +21 | 13,502 |
 * | the same, positions seen on an 80×80 frame's 2 px grid (`pongInterceptPolicy(4, 10, 2)`) | +18.46 | +13 … +21 | 13,619 |
 * | the same, on a 42×42 frame's 3.81 px grid (`pongInterceptPolicy(4, 10, 160 / 42)`) | +16.14 | +10 … +21 | 14,963 |
 * | one choice held for 2 frames (`pongInterceptPolicy(2)`) | +19.56 | +15 … +21 | 19,637 |
 * | the same, on an 80×80 frame's 2 px grid (`pongInterceptPolicy(2, 10, 2)`) | +19.80 | +17 … +21 | 21,737 |
 * | the same, on a 42×42 frame's 3.81 px grid (`pongInterceptPolicy(2, 10, 160 / 42)`) | +20.12 | +18 … +21 | 25,259 |
 *
 * The ALE's figures for comparison: random −20.7 with games of roughly 3,000–4,000 frames. The
 * interceptor shows the game can be won 21–0 or near it, at frame skip 4 and 2 too, and at frame
 * skip 2 on the 42×42 frame's grid.
 */
export const PONG_CALIBRATION = {
  random: { meanScore: -20.7, meanFrames: 3174 },
  tracking: { meanScore: 16.88, meanFrames: 36381 },
} as const;

// sub-pixel fixed point: 16 units a pixel
const SUB = 16;
/** First playfield row (below the top wall). */
export const PONG_PLAY_TOP = 34;
/** First row below the playfield (the bottom wall). */
export const PONG_PLAY_BOTTOM = 194;
/** Left column of the CPU paddle. */
export const PONG_CPU_X = 16;
/** Left column of the agent paddle. */
export const PONG_AGENT_X = 140;
/** Paddle height in pixels. */
export const PONG_PADDLE_HEIGHT = 16;
const PADDLE_W = 4;
const BALL_W = 2;
const BALL_H = 4;
// paddles may hide up to 6 px behind the walls, as the ALE's do
const PADDLE_MIN = (PONG_PLAY_TOP - 6) * SUB;
const PADDLE_MAX = (PONG_PLAY_BOTTOM - 10) * SUB;
const BALL_MIN_Y = PONG_PLAY_TOP * SUB;
const BALL_MAX_Y = (PONG_PLAY_BOTTOM - BALL_H) * SUB;
const AGENT_FACE = PONG_AGENT_X * SUB;
const CPU_FACE = (PONG_CPU_X + PADDLE_W) * SUB;
// the ALE's paddle resistance range and per-frame change
const POT_MIN = 27450;
const POT_MAX = 790196;
const POT_DELTA = 23000;
const POT_MID = (POT_MIN + POT_MAX) >> 1;
const SERVE_DELAY = 60;
const WIN_SCORE = 21;
// horizontal speed at the serve; rallies speed up by VX_STEP every RALLY_HITS paddle hits up to
// VX_MAX, and a hit with FIRE held adds VX_FIRE for that return
const VX_BASE = 20;
const VX_STEP = 4;
const RALLY_HITS = 4;
const VX_MAX = 48;
const VX_FIRE = 8;
// vertical speed by the paddle section hit, top to bottom; the middle keeps the ball's direction
const VY_BY_SECTION = [-28, -14, 6, 14, 28];
const SERVE_VY = [-16, -8, 8, 16];
const CPU_SPEED = 40;
// the CPU aims to meet the ball up to this many pixels off its paddle's centre
const CPU_AIM = 6;

/**
 * Pong's state and rules. Positions are in 1/16 px (`>> 4` gives pixels) and public so scripted
 * policies and tests can read them; `placeBall` is the test hook to set up a shot.
 */
export class Pong implements AtariGame {
  /** Game name. */
  readonly name = "Pong";
  /** NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE. */
  readonly minimalActions: readonly number[] = [0, 1, 3, 4, 11, 12];
  /** Pong has no lives. */
  readonly lives = 0;
  /** Whether a side has reached 21. */
  over = false;
  /** Agent's points. */
  agentScore = 0;
  /** CPU's points. */
  cpuScore = 0;
  /** Ball's left column (1/16 px). */
  ballX = 0;
  /** Ball's top row (1/16 px). */
  ballY = 0;
  /** Ball's horizontal velocity (1/16 px per frame; > 0 towards the agent). */
  ballVx = 0;
  /** Ball's vertical velocity (1/16 px per frame; > 0 down). */
  ballVy = 0;
  /** Whether the ball is on screen (false between points). */
  ballInPlay = false;
  /** Paddle hits since the serve (the ball speeds up as they grow). */
  rallyHits = 0;
  /** Frames until the next serve. */
  serveTimer = 0;
  /** Agent paddle's top row (1/16 px). */
  agentY = 0;
  /** CPU paddle's top row (1/16 px). */
  cpuY = 0;
  /** Paddle knob resistance, as the ALE keeps it. */
  pot = POT_MID;
  #potTarget = 0;
  #serveRight = true;
  #serveY = 0;
  #cpuAim = 0;
  #frames = 0;
  #scoreDirty = true;
  #rng: Rng | null = null;

  /** Starts a game: scores 0, paddles centred, first serve after the usual pause. */
  reset(rng: Rng): void {
    this.#rng = rng;
    this.over = false;
    this.agentScore = 0;
    this.cpuScore = 0;
    this.pot = POT_MID;
    this.agentY = potToY(POT_MID);
    this.#potTarget = this.agentY;
    this.cpuY = (PADDLE_MIN + PADDLE_MAX) >> 1;
    this.ballInPlay = false;
    this.serveTimer = SERVE_DELAY;
    this.#serveRight = rng.random() < 0.5;
    this.#drawServeY();
    this.#drawCpuAim();
    this.#frames = 0;
    this.#scoreDirty = true;
  }

  /** Puts the ball in play at pixel position (x, y) with velocity (vx, vy) in 1/16 px a frame. */
  placeBall(x: number, y: number, vx: number, vy: number): void {
    this.ballX = x * SUB;
    this.ballY = y * SUB;
    this.ballVx = vx;
    this.ballVy = vy;
    this.ballInPlay = true;
  }

  /** One frame: knob, agent paddle, CPU paddle, ball, scoring. */
  frame(input: number): number {
    if (this.over) return 0;
    this.#frames++;
    // the knob moves at once; the game reads it a frame late and eases the paddle towards it
    if (input & INPUT_RIGHT) this.pot = Math.max(this.pot - POT_DELTA, POT_MIN);
    else if (input & INPUT_LEFT) this.pot = Math.min(this.pot + POT_DELTA, POT_MAX);
    const target = this.#potTarget;
    this.#potTarget = potToY(this.pot);
    this.agentY += (target - this.agentY) >> 1;

    // the CPU chases the ball (or the centre between points), skipping one frame in eight
    if ((this.#frames & 7) !== 7) {
      const goal = this.#cpuAim +
        (this.ballInPlay
          ? this.ballY + ((BALL_H * SUB) >> 1)
          : this.#serveY + ((BALL_H * SUB) >> 1));
      let d = goal - (this.cpuY + ((PONG_PADDLE_HEIGHT * SUB) >> 1));
      if (d > CPU_SPEED) d = CPU_SPEED;
      else if (d < -CPU_SPEED) d = -CPU_SPEED;
      this.cpuY = clamp(this.cpuY + d, PADDLE_MIN, PADDLE_MAX);
    }

    if (!this.ballInPlay) {
      if (--this.serveTimer <= 0) this.#serve();
      return 0;
    }
    const prevX = this.ballX;
    this.ballX += this.ballVx;
    this.ballY += this.ballVy;
    if (this.ballY < BALL_MIN_Y) {
      this.ballY = 2 * BALL_MIN_Y - this.ballY;
      this.ballVy = -this.ballVy;
    } else if (this.ballY > BALL_MAX_Y) {
      this.ballY = 2 * BALL_MAX_Y - this.ballY;
      this.ballVy = -this.ballVy;
    }
    const right = BALL_W * SUB;
    if (this.ballVx > 0) {
      if (prevX + right <= AGENT_FACE && this.ballX + right > AGENT_FACE) {
        const section = hitSection(this.ballY, this.agentY);
        if (section >= 0) {
          this.ballX = AGENT_FACE - right;
          this.ballVx = -(this.#rallySpeed() + ((input & INPUT_FIRE) ? VX_FIRE : 0));
          this.#deflect(section, -this.ballVx);
          this.#drawCpuAim();
        }
      } else if (this.ballX >= 160 * SUB) {
        return this.#point(-1);
      }
    } else {
      if (prevX >= CPU_FACE && this.ballX < CPU_FACE) {
        const section = hitSection(this.ballY, this.cpuY);
        if (section >= 0) {
          this.ballX = CPU_FACE;
          this.ballVx = this.#rallySpeed();
          this.#deflect(section, this.ballVx);
        }
      } else if (this.ballX + right <= 0) {
        return this.#point(1);
      }
    }
    return 0;
  }

  #rallySpeed(): number {
    this.rallyHits++;
    return Math.min(VX_MAX, VX_BASE + VX_STEP * Math.floor(this.rallyHits / RALLY_HITS));
  }

  // the section sets the slope of the return, so faster balls also move faster vertically
  #deflect(section: number, speed: number): void {
    const vy = Math.trunc((VY_BY_SECTION[section] * speed) / VX_BASE);
    // the middle section returns the ball shallowly, keeping its vertical direction
    this.ballVy = section === 2 ? (this.ballVy < 0 ? -vy : vy) : vy;
  }

  #serve(): void {
    const rng = this.#rng!;
    this.ballInPlay = true;
    this.rallyHits = 0;
    this.ballX = 78 * SUB;
    this.ballY = this.#serveY;
    this.ballVx = this.#serveRight ? VX_BASE : -VX_BASE;
    this.ballVy = SERVE_VY[rng.int(SERVE_VY.length)];
  }

  // the serve height is known from the end of the point, so the CPU lines up during the pause
  #drawServeY(): void {
    const span = PONG_PLAY_BOTTOM - PONG_PLAY_TOP - 44;
    this.#serveY = (PONG_PLAY_TOP + 20 + this.#rng!.int(span)) * SUB;
  }

  // where on its paddle the CPU means to take the next ball: varied returns, and no rally loops
  // forever between two perfect players
  #drawCpuAim(): void {
    this.#cpuAim = (this.#rng!.int(2 * CPU_AIM + 1) - CPU_AIM) * SUB;
  }

  #point(reward: number): number {
    if (reward > 0) this.agentScore++;
    else this.cpuScore++;
    this.#scoreDirty = true;
    this.ballInPlay = false;
    this.serveTimer = SERVE_DELAY;
    // the next serve goes to the side that conceded
    this.#serveRight = reward < 0;
    this.#drawServeY();
    this.#drawCpuAim();
    if (this.agentScore >= WIN_SCORE || this.cpuScore >= WIN_SCORE) this.over = true;
    return reward;
  }

  /** Background, walls and both scores. */
  paintBase(s: Screen): void {
    s.setSpriteClip(PONG_PLAY_TOP, PONG_PLAY_BOTTOM);
    s.fillBase(0, 0, 160, 210, PONG_COLOURS.background);
    s.fillBase(0, 24, 160, PONG_PLAY_TOP - 24, PONG_COLOURS.wall);
    s.fillBase(0, PONG_PLAY_BOTTOM, 160, 210 - PONG_PLAY_BOTTOM, PONG_COLOURS.wall);
    this.#paintScores(s);
  }

  /** Redraws the score area when a point was scored since the last frame drawn. */
  updateBase(s: Screen): void {
    if (!this.#scoreDirty) return;
    s.fillBase(0, 0, 160, 24, PONG_COLOURS.background);
    this.#paintScores(s);
    s.commitRect(0, 0, 160, 24);
  }

  #paintScores(s: Screen): void {
    s.digits(this.cpuScore, 52, 2, 4, 4, 4, 1, PONG_COLOURS.cpu);
    s.digits(this.agentScore, 132, 2, 4, 4, 4, 1, PONG_COLOURS.agent);
    this.#scoreDirty = false;
  }

  /** Paddles and ball. */
  drawSprites(s: Screen): void {
    s.sprite(PONG_CPU_X, this.cpuY >> 4, PADDLE_W, PONG_PADDLE_HEIGHT, PONG_COLOURS.cpu);
    s.sprite(PONG_AGENT_X, this.agentY >> 4, PADDLE_W, PONG_PADDLE_HEIGHT, PONG_COLOURS.agent);
    if (this.ballInPlay) {
      s.sprite(this.ballX >> 4, this.ballY >> 4, BALL_W, BALL_H, PONG_COLOURS.ball);
    }
  }
}

function potToY(pot: number): number {
  return PADDLE_MIN +
    Math.floor(((pot - POT_MIN) * (PADDLE_MAX - PADDLE_MIN)) / (POT_MAX - POT_MIN));
}

// which of five sections of the paddle (top first) the ball meets, or -1 for a miss
function hitSection(ballY: number, paddleY: number): number {
  const by = ballY >> 4, py = paddleY >> 4;
  if (by + BALL_H <= py || by >= py + PONG_PADDLE_HEIGHT) return -1;
  const offset = by + (BALL_H >> 1) - py + 2; // 1..19 over the paddle
  return Math.min(4, Math.max(0, Math.floor(offset / 4)));
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

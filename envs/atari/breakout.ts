/**
 * Breakout (Atari 2600) re-implemented with integer physics to the ALE's observable contract.
 *
 * - Screen: score (3 digits), lives and player number in grey at rows 5–14; grey walls: top rows
 *   17–31, sides x 0–7 and 152–159 down to row 195; black background; 6 rows × 18 bricks of
 *   8×6 px at rows 57–92 (top to bottom red, orange, yellow, olive, green, blue, worth
 *   7, 7, 4, 4, 1, 1); paddle at rows 189–192, 16 px wide (8 after the ball first reaches the
 *   top wall), and a 2×4 ball, both red.
 * - Controls: a paddle controller as in the ALE (RIGHT moves the paddle right, 23,000 units of
 *   resistance a frame, read a frame late and eased in). FIRE serves a new ball (5 balls a game)
 *   from below the bricks, aimed to land within 28 px of where the paddle is (seeded). After a
 *   lost ball the next waits 30 frames; a FIRE pressed during that pause is kept and serves when
 *   it ends, so the FIRE that `FireReset` presses a few frames after a lost life serves the
 *   ball.
 * - The ball's horizontal speed depends on which of six sections of the paddle it meets; its
 *   speed goes up after 4 and 12 paddle hits and on first reaching the orange and red rows (per
 *   ball). A ball breaks one brick and turns back. Clearing the wall once brings a second wall.
 * - `lives` counts down from 5; the game ends when the fifth ball is lost.
 *
 * Calibration: see {@link BREAKOUT_CALIBRATION}.
 *
 * @module
 */
import { type AtariGame, INPUT_FIRE, INPUT_LEFT, INPUT_RIGHT } from "./ale_env.ts";
import type { Rng } from "../../autograd/random.ts";
import { colour, type Screen } from "./screen.ts";

/** Breakout's palette (the ALE's NTSC colours). */
export const BREAKOUT_COLOURS = {
  background: colour(0, 0, 0),
  wall: colour(142, 142, 142),
  paddle: colour(200, 72, 72),
  ball: colour(200, 72, 72),
  /** Brick rows, top first. */
  bricks: [
    colour(200, 72, 72),
    colour(198, 108, 58),
    colour(180, 122, 48),
    colour(162, 162, 42),
    colour(72, 160, 72),
    colour(66, 72, 200),
  ],
} as const;

/** Points per brick row, top first. */
export const BREAKOUT_BRICK_VALUES: readonly number[] = [7, 7, 4, 4, 1, 1];

/**
 * Measured with `playGames` (`measure.ts`) over 100 games of `BreakoutNoFrameskip-v4` (env seeds
 * 0–99, policy generators 1000–1099): a uniformly random policy scores 1.74 a game (1.61 on
 * seeds 100–199) in games of about 690 frames; the ALE's random baseline is 1.7. The serve (aimed
 * within 28 px of the paddle) was tuned to land there.
 */
export const BREAKOUT_CALIBRATION = {
  random: { meanScore: 1.74, meanFrames: 688 },
} as const;

const SUB = 16;
/** First row under the top wall. */
export const BREAKOUT_PLAY_TOP = 32;
/** First row of bricks. */
export const BREAKOUT_BRICK_TOP = 57;
/** Brick height in pixels. */
export const BREAKOUT_BRICK_HEIGHT = 6;
/** Brick width in pixels. */
export const BREAKOUT_BRICK_WIDTH = 8;
/** Brick rows and columns. */
export const BREAKOUT_ROWS = 6;
/** Bricks per row. */
export const BREAKOUT_COLUMNS = 18;
/** Top row of the paddle. */
export const BREAKOUT_PADDLE_Y = 189;
const LEFT_EDGE = 8;
const RIGHT_EDGE = 152;
const WALL_BOTTOM = 196;
const PADDLE_H = 4;
const BALL_W = 2;
const BALL_H = 4;
const POT_MIN = 27450;
const POT_MAX = 790196;
const POT_DELTA = 23000;
const POT_MID = (POT_MIN + POT_MAX) >> 1;
// vertical speed (1/16 px a frame) by speed level 0..4
const VY_BY_LEVEL = [24, 30, 36, 42, 48];
// horizontal speed at level 0 by the paddle section hit, left to right
const VX_BY_SECTION = [-32, -20, -10, 10, 20, 32];
const SERVE_DELAY = 30;
const SERVE_Y = 100;
// balls are served within this many pixels of the paddle's column, drifting left or right
const SERVE_SPREAD = 28;

/**
 * Breakout's state and rules. Positions are in 1/16 px and public for scripted policies and
 * tests; `bricks` holds 1 per standing brick, row-major from the top-left.
 */
export class Breakout implements AtariGame {
  /** Game name. */
  readonly name = "Breakout";
  /** NOOP, FIRE, RIGHT, LEFT. */
  readonly minimalActions: readonly number[] = [0, 1, 3, 4];
  /** Balls left, 5 at the start. */
  lives = 5;
  /** Whether the last ball is lost. */
  over = false;
  /** Points so far. */
  score = 0;
  /** Standing bricks (1) row-major, top row first. */
  readonly bricks = new Uint8Array(BREAKOUT_ROWS * BREAKOUT_COLUMNS);
  /** Ball's left column (1/16 px). */
  ballX = 0;
  /** Ball's top row (1/16 px). */
  ballY = 0;
  /** Ball's horizontal velocity (1/16 px a frame). */
  ballVx = 0;
  /** Ball's vertical velocity (1/16 px a frame; > 0 down). */
  ballVy = 0;
  /** Whether a ball is in play. */
  ballInPlay = false;
  /** Paddle's left column (1/16 px). */
  paddleX = 0;
  /** Paddle width in pixels (halves once the ball reaches the top wall). */
  paddleWidth = 16;
  /** Paddle hits of the current ball. */
  hits = 0;
  /** Paddle knob resistance, as the ALE keeps it. */
  pot = POT_MID;
  #potTarget = 0;
  #section = 0;
  #level = 0;
  #orange = false;
  #red = false;
  #wall = 1;
  #standing = 0;
  #serveTimer = 0;
  #fireHeld = false;
  #scoreDirty = true;
  #screen: Screen | null = null;
  #rng: Rng | null = null;

  /** Starts a game: full wall, 5 balls, none in play until FIRE. */
  reset(rng: Rng): void {
    this.#rng = rng;
    this.lives = 5;
    this.over = false;
    this.score = 0;
    this.bricks.fill(1);
    this.#standing = this.bricks.length;
    this.#wall = 1;
    this.paddleWidth = 16;
    this.pot = POT_MID;
    this.paddleX = this.#potToX(POT_MID);
    this.#potTarget = this.paddleX;
    this.ballInPlay = false;
    this.#serveTimer = 0;
    this.#fireHeld = false;
    this.#newBall();
    this.#scoreDirty = true;
    this.#screen = null;
  }

  /** Puts the ball in play at pixel position (x, y) with velocity (vx, vy) in 1/16 px a frame. */
  placeBall(x: number, y: number, vx: number, vy: number): void {
    this.ballX = x * SUB;
    this.ballY = y * SUB;
    this.ballVx = vx;
    this.ballVy = vy;
    this.ballInPlay = true;
  }

  /** One frame: knob, paddle, serve, ball, bricks, lives. */
  frame(input: number): number {
    if (this.over) return 0;
    if (input & INPUT_RIGHT) this.pot = Math.max(this.pot - POT_DELTA, POT_MIN);
    else if (input & INPUT_LEFT) this.pot = Math.min(this.pot + POT_DELTA, POT_MAX);
    const target = this.#potTarget;
    this.#potTarget = this.#potToX(this.pot);
    this.paddleX += (target - this.paddleX) >> 1;

    if (!this.ballInPlay) {
      if (input & INPUT_FIRE) this.#fireHeld = true;
      if (this.#serveTimer > 0) this.#serveTimer--;
      else if (this.#fireHeld) this.#serve();
      return 0;
    }
    const prevY = this.ballY;
    this.ballX += this.ballVx;
    this.ballY += this.ballVy;
    if (this.ballX < LEFT_EDGE * SUB) {
      this.ballX = 2 * LEFT_EDGE * SUB - this.ballX;
      this.ballVx = -this.ballVx;
    } else if (this.ballX > (RIGHT_EDGE - BALL_W) * SUB) {
      this.ballX = 2 * (RIGHT_EDGE - BALL_W) * SUB - this.ballX;
      this.ballVx = -this.ballVx;
    }
    if (this.ballY < BREAKOUT_PLAY_TOP * SUB) {
      this.ballY = 2 * BREAKOUT_PLAY_TOP * SUB - this.ballY;
      this.ballVy = -this.ballVy;
      // breaking through to the top wall halves the paddle
      if (this.paddleWidth === 16) {
        this.paddleWidth = 8;
        this.paddleX += 4 * SUB;
        this.#potTarget = this.#potToX(this.pot);
      }
    }
    const reward = this.#hitBrick();
    const paddleTop = BREAKOUT_PADDLE_Y * SUB;
    const bottom = this.ballY + BALL_H * SUB;
    if (this.ballVy > 0 && prevY + BALL_H * SUB <= paddleTop && bottom > paddleTop) {
      const bx = this.ballX >> 4, px = this.paddleX >> 4;
      if (bx + BALL_W > px && bx < px + this.paddleWidth) {
        this.ballY = paddleTop - BALL_H * SUB;
        const at = bx + (BALL_W >> 1) - px;
        this.#section = Math.min(5, Math.max(0, Math.floor((at * 6) / this.paddleWidth)));
        this.hits++;
        this.#setVelocity(-1);
      }
    } else if (this.ballY >= WALL_BOTTOM * SUB) {
      this.ballInPlay = false;
      this.lives--;
      this.#scoreDirty = true;
      if (this.lives <= 0) this.over = true;
      else this.#newBall();
    }
    if (this.#standing === 0 && this.#wall === 1) {
      this.#wall = 2;
      this.bricks.fill(1);
      this.#standing = this.bricks.length;
      if (this.#screen) this.#paintBricks(this.#screen, true);
    }
    return reward;
  }

  // breaks the brick under the ball's leading edge, if any, and turns the ball back
  #hitBrick(): number {
    const y = (this.ballY >> 4) + (this.ballVy > 0 ? BALL_H - 1 : 0);
    const row = Math.floor((y - BREAKOUT_BRICK_TOP) / BREAKOUT_BRICK_HEIGHT);
    if (row < 0 || row >= BREAKOUT_ROWS) return 0;
    const x = this.ballX >> 4;
    let col = Math.floor((x - LEFT_EDGE) / BREAKOUT_BRICK_WIDTH);
    let i = row * BREAKOUT_COLUMNS + col;
    if (!this.bricks[i]) {
      col = Math.floor((x + BALL_W - 1 - LEFT_EDGE) / BREAKOUT_BRICK_WIDTH);
      i = row * BREAKOUT_COLUMNS + col;
      if (col >= BREAKOUT_COLUMNS || !this.bricks[i]) return 0;
    }
    this.bricks[i] = 0;
    this.#standing--;
    const s = this.#screen;
    if (s) {
      s.fillBase(
        LEFT_EDGE + col * BREAKOUT_BRICK_WIDTH,
        BREAKOUT_BRICK_TOP + row * BREAKOUT_BRICK_HEIGHT,
        BREAKOUT_BRICK_WIDTH,
        BREAKOUT_BRICK_HEIGHT,
        BREAKOUT_COLOURS.background,
        true,
      );
    }
    if (row === 1) this.#orange = true;
    if (row === 0) this.#red = true;
    this.#setVelocity(this.ballVy > 0 ? -1 : 1);
    const points = BREAKOUT_BRICK_VALUES[row];
    this.score += points;
    this.#scoreDirty = true;
    return points;
  }

  // speed level from this ball's hits and the rows it reached; direction up (-1) or down (1)
  #setVelocity(dirY: number): void {
    const level = (this.hits >= 4 ? 1 : 0) + (this.hits >= 12 ? 1 : 0) + (this.#orange ? 1 : 0) +
      (this.#red ? 1 : 0);
    this.#level = level;
    const vy = VY_BY_LEVEL[level];
    this.ballVy = dirY * vy;
    this.ballVx = Math.trunc((VX_BY_SECTION[this.#section] * vy) / VY_BY_LEVEL[0]);
  }

  #newBall(): void {
    this.hits = 0;
    this.#level = 0;
    this.#orange = false;
    this.#red = false;
    this.#serveTimer = SERVE_DELAY;
    this.#fireHeld = false;
  }

  #serve(): void {
    const rng = this.#rng!;
    this.ballInPlay = true;
    // aimed to land within SERVE_SPREAD px of where the paddle is at the serve
    this.#section = 2 + rng.int(2);
    this.#setVelocity(1);
    const centre = (this.paddleX >> 4) + (this.paddleWidth >> 1);
    const land = (centre - SERVE_SPREAD + rng.int(2 * SERVE_SPREAD + 1)) * SUB;
    const frames = Math.trunc(((BREAKOUT_PADDLE_Y - BALL_H - SERVE_Y) * SUB) / this.ballVy);
    const x = land - this.ballVx * frames;
    this.ballX = Math.min((RIGHT_EDGE - BALL_W) * SUB, Math.max(LEFT_EDGE * SUB, x));
    this.ballY = SERVE_Y * SUB;
  }

  #potToX(pot: number): number {
    // turning the knob right (lower resistance) moves the paddle right
    const range = (RIGHT_EDGE - LEFT_EDGE - this.paddleWidth) * SUB;
    return LEFT_EDGE * SUB + range -
      Math.floor(((pot - POT_MIN) * range) / (POT_MAX - POT_MIN));
  }

  /** Background, walls, bricks, score and lives; attaches `s` for brick updates. */
  paintBase(s: Screen): void {
    this.#screen ??= s;
    s.setSpriteClip(BREAKOUT_PLAY_TOP, WALL_BOTTOM);
    const c = BREAKOUT_COLOURS;
    s.fillBase(0, 0, 160, 210, c.background);
    s.fillBase(0, 17, 160, BREAKOUT_PLAY_TOP - 17, c.wall);
    s.fillBase(0, BREAKOUT_PLAY_TOP, LEFT_EDGE, WALL_BOTTOM - BREAKOUT_PLAY_TOP, c.wall);
    s.fillBase(
      RIGHT_EDGE,
      BREAKOUT_PLAY_TOP,
      160 - RIGHT_EDGE,
      WALL_BOTTOM - BREAKOUT_PLAY_TOP,
      c.wall,
    );
    this.#paintBricks(s, false);
    this.#paintScore(s);
  }

  #paintBricks(s: Screen, both: boolean): void {
    for (let row = 0; row < BREAKOUT_ROWS; row++) {
      for (let col = 0; col < BREAKOUT_COLUMNS; col++) {
        s.fillBase(
          LEFT_EDGE + col * BREAKOUT_BRICK_WIDTH,
          BREAKOUT_BRICK_TOP + row * BREAKOUT_BRICK_HEIGHT,
          BREAKOUT_BRICK_WIDTH,
          BREAKOUT_BRICK_HEIGHT,
          this.bricks[row * BREAKOUT_COLUMNS + col]
            ? BREAKOUT_COLOURS.bricks[row]
            : BREAKOUT_COLOURS.background,
          both,
        );
      }
    }
  }

  #paintScore(s: Screen): void {
    const c = BREAKOUT_COLOURS.wall;
    s.digits(this.score % 1000, 68, 5, 4, 2, 4, 3, c);
    s.digits(this.lives, 112, 5, 4, 2, 4, 1, c);
    s.digits(1, 140, 5, 4, 2, 4, 1, c);
    this.#scoreDirty = false;
  }

  /** Redraws score and lives when they changed since the last frame drawn. */
  updateBase(s: Screen): void {
    if (!this.#scoreDirty) return;
    s.fillBase(0, 0, 160, 17, BREAKOUT_COLOURS.background);
    this.#paintScore(s);
    s.commitRect(0, 0, 160, 17);
  }

  /** Paddle and ball. */
  drawSprites(s: Screen): void {
    s.sprite(
      this.paddleX >> 4,
      BREAKOUT_PADDLE_Y,
      this.paddleWidth,
      PADDLE_H,
      BREAKOUT_COLOURS.paddle,
    );
    if (this.ballInPlay) {
      s.sprite(this.ballX >> 4, this.ballY >> 4, BALL_W, BALL_H, BREAKOUT_COLOURS.ball);
    }
  }
}

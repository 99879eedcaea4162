/**
 * How many points a Pong player acting every 4 (or 2) frames loses when it sees positions only to
 * the nearest g px, as a network does from a downscaled frame (the 160 px playfield is 3.81 px a
 * pixel at 42×42, 2 px at 80×80): `pongInterceptPolicy(every, 10, g)` over 100 games a grid,
 * without and with sticky actions (each emulated frame keeps the previous frame's input with
 * probability 0.25, as `ALE/Pong-v5` with `--frameskip 1` plays).
 *
 * `deno run results/pong-resolution/intercept_grid.ts [games]` (env seeds 0..games-1).
 */
import { makePong } from "../../envs/atari/mod.ts";
import { playGames, pongInterceptPolicy } from "../../envs/atari/measure.ts";

const games = Number(Deno.args[0] ?? 100);
for (const every of [4, 2]) {
  for (const sticky of [0, 0.25]) {
    for (const [label, grid] of [["exact", 0], ["80×80", 2], ["42×42", 160 / 42]] as const) {
      const env = makePong({ repeatActionProbability: sticky });
      const s = await playGames(env, pongInterceptPolicy(every, 10, grid), games);
      const sd = Math.sqrt(s.scores.reduce((a, b) => a + (b - s.meanScore) ** 2, 0) / games);
      console.log(
        `every ${every} sticky ${sticky} ${label.padEnd(6)} grid ${grid.toFixed(2)} px: ` +
          `${s.meanScore.toFixed(2)} ± ${sd.toFixed(2)} (min ${Math.min(...s.scores)}) over ${games} games`,
      );
    }
  }
}

/**
 * `deno task watch <run-dir> [--port n]`: serves the live page of a run from its directory alone
 * (curves, status of the records, configuration), for a finished run or one being written by a
 * trainer on this machine or, over a shared disk, another. Stop it with Ctrl-C.
 *
 * @module
 */
import { InvalidArgumentError } from "npm:@commander-js/extra-typings@14.0.0";
import { serveRun } from "../web/server.ts";
import { requireAccess } from "./permissions.ts";
import { runTask, taskCommand } from "./_task.ts";

/** A directory that holds no run. */
class NotARun extends Error {}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new InvalidArgumentError("expected a port 0..65535 (0 picks a free one)");
  }
  return n;
}

const cmd = taskCommand(
  "watch",
  "Serve a run directory's live page (curves only) on 127.0.0.1.",
  "<run-dir>",
  "a run directory (with metrics.jsonl and config.json)",
)
  .option("--port <n>", "port (0: a free one)", port, 0);
await runTask("watch", [NotARun], async () => {
  cmd.parse(Deno.args, { from: "user" });
  const dir = cmd.args[0].replace(/\/+$/, "");
  requireAccess("watch", "read", dir, "run directory");
  let found = false;
  for (const name of ["metrics.jsonl", "config.json"]) {
    try {
      await Deno.stat(`${dir}/${name}`);
      found = true;
    } catch {
      // one of the two is enough: a run that has just started may have only its config
    }
  }
  if (!found) {
    throw new NotARun(
      `${dir}: not a run directory (expected metrics.jsonl or config.json in it)`,
    );
  }
  const server = await serveRun({ runDir: dir, port: cmd.opts().port });
  // listening: no other connection is this process's to make
  Deno.permissions.revokeSync({ name: "net" });
  console.log(`live page of ${dir}: ${server.url} (Ctrl-C stops)`);
  Deno.addSignalListener("SIGINT", async () => {
    await server.close();
    Deno.exit(0);
  });
});

/**
 * `deno task train <preset|env-id> [flags]`: trains with A3C. `--help` lists the flags.
 * `deno task train-cluster <preset> --cluster redis://host:port/run [flags]` is the same with
 * network access, which `train` does not have.
 *
 * @module
 */
import { ConfigError } from "../algorithms/config.ts";
import { runDirectory } from "../algorithms/run_directory.ts";
import { SIGNAL_EXIT_CODES, train } from "../algorithms/trainer.ts";
import { RunDirectoryError } from "../algorithms/run_directory.ts";
import { ClusterError, parseClusterUrl } from "../algorithms/cluster.ts";
import { CheckpointError, checkpointPaths } from "../io/checkpoint.ts";
import { EnvError } from "../envs/core.ts";
import { parseTrainArgs, trainCommand } from "./cli.ts";
import { PermissionError, requireAccess } from "./permissions.ts";
import { runTask } from "./_task.ts";

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(trainCommand().helpInformation());
  Deno.exit(0);
}
await runTask("train", [
  ConfigError,
  CheckpointError,
  EnvError,
  RunDirectoryError,
  ClusterError,
], async () => {
  const config = parseTrainArgs(Deno.args);
  if (config.load !== null) {
    requireAccess("train", "read", checkpointPaths(config.load).weights, "--load");
  }
  const flag = config.runDir !== null
    ? "--run-dir"
    : config.load !== null
    ? "--load"
    : "run directory";
  requireAccess("train", "write", runDirectory(config), flag);
  const loopback = ["127.0.0.1", "localhost", "::1"];
  if (config.serve !== null && !loopback.includes(config.serveHost)) {
    const net = await Deno.permissions.query({ name: "net", host: config.serveHost });
    if (net.state !== "granted") {
      throw new PermissionError(
        `--serve-host ${config.serveHost}: \`deno task train\` may serve its page on 127.0.0.1 ` +
          `only; run it as deno task train-cluster (the same task with network access) to ` +
          `serve it on another address`,
      );
    }
  }
  // The network is this process's only for what was asked: the page's own address (once it
  // listens, nothing more) or the cluster's Redis server.
  const dropNetwork = () => Deno.permissions.revokeSync({ name: "net" });
  if (config.serve === null && config.cluster === null) dropNetwork();
  if (config.cluster !== null) {
    const { host, port } = parseClusterUrl(config.cluster);
    const net = await Deno.permissions.query({ name: "net", host: `${host}:${port}` });
    if (net.state !== "granted") {
      throw new PermissionError(
        `--cluster ${config.cluster}: this task may not open network connections; ` +
          `run it as deno task train-cluster (the same task with network access)`,
      );
    }
  }
  const result = await train(config, {
    secondSignalExits: true,
    onServe: config.cluster === null ? dropNetwork : undefined,
  });
  if (result.solved) {
    const s = result.solved;
    console.log(`solved: 100-episode mean ${s.mean.toFixed(2)} ± ${s.std.toFixed(2)}`);
  }
  // 0 at a limit or solved, 1 on an error, 128 + n after a clean stop by signal n
  Deno.exit(
    result.signal !== undefined
      ? SIGNAL_EXIT_CODES[result.signal]
      : result.reason === "error" || result.reason === "non-finite"
      ? 1
      : 0,
  );
});

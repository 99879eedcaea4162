/**
 * Least privilege for the tasks: each task in `deno.json` names what it may read and write
 * (`--allow-read=.`, `--allow-write=runs`, ...) instead of `-A`. Before any work starts, a script
 * checks each path it was given against its permissions and fails with one message naming the
 * flag, the path, what the task may touch and the command that grants the path, rather than
 * failing half-way with Deno's own error.
 *
 * @module
 */
import { dirname, relative, resolve } from "node:path";

/** A path that the running task has no permission for. */
export class PermissionError extends Error {
  override name = "PermissionError";
}

/** The task's command in `deno.json` (read from the repository root), or null. */
function taskCommand(task: string): string | null {
  try {
    const config = JSON.parse(
      Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
    );
    const command = config?.tasks?.[task];
    return typeof command === "string" ? command : null;
  } catch {
    return null;
  }
}

/** The values of `--allow-<kind>=a,b` in a task command (null when the flag is absent). */
export function allowedPaths(command: string, kind: "read" | "write"): string[] | null {
  const match = command.match(new RegExp(`--allow-${kind}(?:=(\\S+))?`));
  if (match === null) return null;
  return match[1] === undefined ? [] : match[1].split(",");
}

/**
 * Fails unless the running task may `kind` `path` (a file or a directory to be created).
 * `flag` is the option that gave the path, for the message.
 */
export function requireAccess(
  task: string,
  kind: "read" | "write",
  path: string,
  flag: string,
  shown: string = path,
): void {
  if (Deno.permissions.querySync({ name: kind, path }).state === "granted") return;
  const command = taskCommand(task);
  const allowed = command === null ? null : allowedPaths(command, kind);
  const where = allowed === null || allowed.length === 0
    ? "nothing"
    : allowed.map((p) => `${p}/`).join(", ");
  const grant = kind === "write" ? resolve(path) : resolve(dirname(path));
  const suggestion = command === null
    ? ""
    : `, or run the task's command with it granted: ${
      command.replace(
        new RegExp(`--allow-${kind}=(\\S+)`),
        (_, list) => `--allow-${kind}=${list},${relativeOrAbsolute(grant)}`,
      )
    } ...`;
  throw new PermissionError(
    `${flag} ${shown}: \`deno task ${task}\` may ${kind} only under ${where} ` +
      `(the permissions in deno.json); give a path there${suggestion}`,
  );
}

function relativeOrAbsolute(path: string): string {
  const r = relative(Deno.cwd(), path);
  return r.startsWith("..") ? path : r;
}

/**
 * Checks that the task may write `path` and creates its folder, so a long evaluation or export
 * never fails at its last step for want of a directory.
 */
export async function prepareOutput(task: string, path: string, flag: string): Promise<void> {
  // the folder: a file is written through a temporary file beside it, then renamed
  const folder = dirname(resolve(path));
  requireAccess(task, "write", folder, flag, path);
  await Deno.mkdir(folder, { recursive: true });
}

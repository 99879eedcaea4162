/**
 * What every task's command line shares: a commander command that reports its errors instead of
 * printing and exiting, and one way to end — `--help` exits 0; a refusal the user can act on (a
 * bad flag, or an error of one of the task's own kinds) prints `<task>: <message>` and exits 2;
 * anything else is a fault and is thrown.
 *
 * @module
 */
import { Command, InvalidArgumentError } from "npm:@commander-js/extra-typings@14.0.0";
import { PermissionError } from "./permissions.ts";

/** An error class a task refuses input with. */
// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * A task's command: its name, what it does, and its one positional argument (`"<name>"`, required)
 * with that argument's help; options are added to what it returns. It throws its errors (they reach
 * {@link runTask}) and prints nothing itself.
 */
export function taskCommand(
  name: string,
  description: string,
  argument: `<${string}>`,
  argumentHelp: string,
): Command<[string]> {
  return new Command(name).description(description).argument(argument, argumentHelp)
    .exitOverride().configureOutput({ writeErr: () => {} }) as unknown as Command<[string]>;
}

/**
 * Runs `main`, ending as the module documentation says. `refusals`: the error classes (beside
 * commander's and `PermissionError`), or names of error classes a task does not load up front,
 * whose message is the whole answer to the user.
 */
export async function runTask(
  task: string,
  refusals: readonly (ErrorClass | string)[],
  main: () => Promise<void> | void,
): Promise<void> {
  try {
    await main();
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.code === "commander.helpDisplayed") Deno.exit(0);
    if (
      e.code?.startsWith("commander.") || e instanceof PermissionError ||
      refusals.some((kind) => typeof kind === "string" ? e.name === kind : e instanceof kind)
    ) {
      console.error(`${task}: ${e.message.replace(/^error: /, "")}`);
      Deno.exit(2);
    }
    throw error;
  }
}

/** A commander parser of an integer ≥ `min`. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    }
    return n;
  };
}

/** A usage error (reported like a bad flag) with `message`. */
export function usage(message: string): Error {
  return Object.assign(new Error(message), { code: "commander.usage" });
}

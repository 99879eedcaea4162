/**
 * Command-line parsing shared by `deno task train` and `deno task eval`: flags named as in the
 * seed projects, each value checked before any work starts.
 *
 * @module
 */
import { type Command, InvalidArgumentError, Option } from "npm:@commander-js/extra-typings@14.0.0";
import { taskCommand } from "./_task.ts";
import {
  ConfigError,
  type FieldRule,
  FIELDS,
  type FieldSpec,
  flagOf,
  followsRule,
  PRESETS,
  resolveConfig,
  type TrainConfig,
} from "../algorithms/config.ts";

/** `none` on the command line, for a field that takes null (commander keeps what a parser returns). */
const NONE = Symbol("none");

/** The command-line parser of a field's values: its rule checked, its own words in the error. */
function parserFor(rule: FieldRule): ((value: string, previous?: unknown) => unknown) | undefined {
  const fail = () => {
    throw new InvalidArgumentError(`expected ${rule.expected}`);
  };
  switch (rule.type) {
    case "boolean":
      return undefined;
    case "string":
      return rule.choices === undefined ? (value) => value : undefined;
    case "list":
      return (value, previous) => {
        const n = Number(value);
        if (!/^\d+$/.test(value.trim()) || n < 1) {
          throw new InvalidArgumentError("expected an integer ≥ 1");
        }
        return [...((previous as number[] | undefined) ?? []), n];
      };
    default:
      return (value) => {
        if (rule.nullable && (value === "none" || value === "off")) return NONE;
        const n = Number(value);
        if (value.trim() === "" || !followsRule(rule, n)) fail();
        return n;
      };
  }
}

/** The `train` command's flags (a `Command` configured but not yet parsed), from `FIELDS`. */
export function trainCommand(): Command<[string], Record<string, unknown>> {
  const cmd = taskCommand(
    "train",
    "Train an agent with A3C (Hogwild workers sharing parameters), or A3G with --a3g. " +
      "A preset's values replace the defaults shown.",
    "<preset|env-id>",
    `a preset (${Object.keys(PRESETS).join(", ")}) or an env id`,
  );
  for (const [field, spec] of Object.entries(FIELDS) as [string, FieldSpec<unknown>][]) {
    const flag = flagOf(field, spec);
    if (flag === undefined) continue;
    // the table's default in the help, where a value has one and the help does not say it
    const shown = spec.rule.type !== "boolean" && spec.default !== null &&
        !/default/.test(spec.help ?? "")
      ? ` (default ${spec.default})`
      : "";
    const option = new Option(flag, `${spec.help}${shown}`);
    if (spec.rule.choices !== undefined) option.choices(spec.rule.choices);
    const parse = parserFor(spec.rule);
    if (parse !== undefined) option.argParser(parse);
    cmd.addOption(option);
    if (spec.negation !== undefined) {
      cmd.addOption(new Option(flag.replace(/--/, "--no-"), spec.negation));
    }
  }
  return cmd as unknown as Command<[string], Record<string, unknown>>;
}

/** Parses `deno task train` arguments into a validated configuration (throws `ConfigError`). */
export function parseTrainArgs(args: string[]): TrainConfig {
  const cmd = trainCommand();
  try {
    cmd.parse(args, { from: "user" });
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") throw err;
    throw new ConfigError(e.message.replace(/^error: /, ""));
  }
  // each field whose flag the user gave: its option's value (a `--no-…` flag's too)
  const given = cmd as unknown as {
    getOptionValue(key: string): unknown;
    getOptionValueSource(key: string): string | undefined;
  };
  const overrides: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(FIELDS) as [string, FieldSpec<unknown>][]) {
    const flag = flagOf(field, spec);
    if (flag === undefined) continue;
    const key = new Option(flag).attributeName();
    if (given.getOptionValueSource(key) !== "cli") continue;
    let value = given.getOptionValue(key);
    if (value === NONE) value = null;
    // `--serve` without a port
    if (value === true && spec.rule.type !== "boolean") value = 0;
    overrides[field] = value;
  }
  return resolveConfig(cmd.args[0], overrides as Partial<TrainConfig>);
}

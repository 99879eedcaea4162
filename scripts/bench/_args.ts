/**
 * The one argument helper of the bench suites.
 *
 * @module
 */

/** The value after `name` in `args` (`--seconds 30`), or `fallback`. */
export function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/**
 * `deno task test`: format check, lint, type check, the set-up of what the tests need beyond Deno
 * (`test/setup.ts`: installed with apt where it can be), then every test; prints one closing line
 * `N passed, N failed` counting each check, test and test step, and exits non-zero on any failure.
 * Extra arguments are passed to `deno test` (e.g. a file or `--filter`).
 *
 * @module
 */
import { setUpTests } from "./test/setup.ts";

const deno = Deno.execPath();
const env: Record<string, string> = { NO_COLOR: "1" };

async function run(name: string, args: string[]): Promise<boolean> {
  console.log(`\n== ${name}: deno ${args.join(" ")}`);
  const { code } = await new Deno.Command(deno, { args, env, stdout: "inherit", stderr: "inherit" })
    .output();
  console.log(`== ${name}: ${code === 0 ? "ok" : `failed (exit ${code})`}`);
  return code === 0;
}

/** Counts `<testcase>` elements of a JUnit report (tests and steps alike). */
function countJunit(xml: string): { passed: number; failed: number; skipped: number } {
  let passed = 0, failed = 0, skipped = 0;
  for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
  return { passed, failed, skipped };
}

const filesOnly = Deno.args.length > 0;
let passed = 0, failed = 0, skipped = 0;
if (!filesOnly) {
  for (
    const [name, args] of [
      ["format", ["fmt", "--check"]],
      ["lint", ["lint"]],
      ["type check", ["check", "."]],
    ] as [string, string[]][]
  ) {
    if (await run(name, args)) passed++;
    else failed++;
  }
}

console.log("\n== setup: what the tests need beyond Deno");
const setup = await setUpTests((line) => console.log(line));
Object.assign(env, setup.env);
for (const line of setup.missing) console.log(line);
console.log(`== setup: ${setup.missing.length === 0 ? "ok" : "failed"}`);
if (setup.missing.length === 0) passed++;
else failed++;

const junit = await Deno.makeTempFile({ suffix: ".xml" });
const ok = await run("tests", [
  "test",
  "-A",
  "--reporter=dot",
  `--junit-path=${junit}`,
  ...Deno.args,
]);
let report = "";
try {
  report = await Deno.readTextFile(junit);
} catch {
  // no report: the test run failed before running tests (e.g. a type error)
}
await Deno.remove(junit).catch(() => {});
const counts = countJunit(report);
passed += counts.passed;
failed += counts.failed;
skipped += counts.skipped;
if (!ok && counts.failed === 0) failed++; // the runner failed outside any test case
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
Deno.exit(failed > 0 ? 1 : 0);

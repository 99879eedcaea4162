/**
 * Run by `permissions_test.ts` with a task's permissions from `deno.json`: tries each kind of
 * access and prints which were allowed, as one JSON object.
 */
const [outside, inside] = Deno.args;
async function allowed(attempt: () => unknown): Promise<boolean | string> {
  try {
    await attempt();
    return true;
  } catch (error) {
    return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ? false
      : `${(error as Error).name}: ${(error as Error).message}`;
  }
}
console.log(JSON.stringify({
  writeOutside: await allowed(() => Deno.writeTextFile(outside, "x")),
  writeInside: await allowed(() => Deno.writeTextFile(inside, "x")),
  readRepo: await allowed(() => Deno.readTextFile(new URL("../deno.json", import.meta.url))),
  readOutside: await allowed(() => Deno.readTextFile("/etc/hostname")),
  net: await allowed(async () =>
    (await Deno.connect({ hostname: "127.0.0.1", port: 65000 })).close()
  ),
  run: await allowed(() => new Deno.Command("true").output()),
  env: await allowed(() => Deno.env.get("HOME")),
  ffi: await allowed(() => Deno.dlopen("libc.so.6", {})),
}));

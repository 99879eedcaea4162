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
  // asked, not tried: no probe sends anything anywhere
  netLoopback: Deno.permissions.querySync({ name: "net", host: "127.0.0.1:6379" }).state ===
    "granted",
  netOutside: Deno.permissions.querySync({ name: "net", host: "203.0.113.7:6379" }).state ===
    "granted",
  run: await allowed(() => new Deno.Command("true").output()),
  runRedis: Deno.permissions.querySync({ name: "run", command: "redis-server" }).state ===
    "granted",
  env: await allowed(() => Deno.env.get("HOME")),
  ffi: await allowed(() => Deno.dlopen("libc.so.6", {})),
}));

/**
 * What the test suite needs beyond Deno and npm, set up by `deno task test` itself so that the
 * README's command passes on a fresh machine: Debian's Jupyter modules and the Deno kernelspec
 * (the notebook tests), Mesa's EGL/GL drivers (WebGPU's software adapter for the kernel tests),
 * Debian's redis-server (the cluster tests), Debian's chromium (the live page's browser test),
 * and a private `XDG_RUNTIME_DIR`. What is missing is installed with apt when the process may
 * (root, apt-get present); otherwise one message names the packages and the command, and the
 * tests that need them fail (they never skip).
 *
 * @module
 */

/** A prerequisite: how to tell it is there and how to get it. */
interface Prerequisite {
  /** What it is for, in the messages. */
  name: string;
  /** Whether it is present. */
  present(): Promise<boolean>;
  /** Debian packages that provide it, if apt can. */
  packages: string[];
  /** A command that sets it up once the packages are there, if any. */
  after?: string[];
}

const python = Deno.env.get("A3G_JUPYTER_PYTHON") ?? "/usr/bin/python3";

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    const { code } = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" })
      .output();
    return code === 0;
  } catch {
    return false; // the command itself is missing
  }
}

/** Whether Deno finds a WebGPU adapter, asked in a child process so this one opens no device. */
function hasGpuAdapter(): Promise<boolean> {
  return succeeds(Deno.execPath(), [
    "eval",
    "Deno.exit((await navigator.gpu?.requestAdapter()) ? 0 : 1)",
  ]);
}

const PREREQUISITES: Prerequisite[] = [
  {
    name: "Jupyter's nbformat and jupyter_client (notebook tests)",
    present: () => succeeds(python, ["-c", "import nbformat, jupyter_client"]),
    packages: ["jupyter-nbconvert", "jupyter-client"],
  },
  {
    name: "the Deno Jupyter kernelspec (notebook tests)",
    present: () =>
      succeeds(python, [
        "-c",
        "import jupyter_client.kernelspec as k; k.KernelSpecManager().get_kernel_spec('deno')",
      ]),
    packages: [],
    after: [Deno.execPath(), "jupyter", "--install", "--force"],
  },
  {
    name: "Debian's redis-server (the cluster tests start a private one)",
    present: () => succeeds("redis-server", ["--version"]),
    packages: ["redis-server"],
  },
  {
    name: "Debian's chromium (the live page is tested in a real browser)",
    present: () => succeeds("chromium", ["--version"]),
    packages: ["chromium"],
  },
  {
    // Any adapter will do (a GPU's own driver too); Mesa's software one is what apt can add.
    name: "a WebGPU adapter (Mesa's EGL/GL drivers give a software one)",
    present: async () =>
      await succeeds("dpkg", ["-s", "libegl1", "libegl-mesa0", "libgl1-mesa-dri"]) ||
      await hasGpuAdapter(),
    packages: ["libegl1", "libegl-mesa0", "libgl1-mesa-dri"],
  },
];

async function aptInstall(packages: string[]): Promise<boolean> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const quiet = { stdout: "null", stderr: "piped", env } as const;
  const update = await new Deno.Command("apt-get", { args: ["update"], ...quiet }).output();
  if (update.code !== 0) return false;
  const install = await new Deno.Command("apt-get", {
    args: ["install", "-y", "--no-install-recommends", ...packages],
    ...quiet,
  }).output();
  return install.code === 0;
}

async function canApt(): Promise<boolean> {
  return Deno.uid?.() === 0 && await succeeds("apt-get", ["--version"]);
}

/**
 * Installs what is missing where it can and returns the environment the tests run in, with the
 * list of prerequisites still missing (each with its install command).
 */
export async function setUpTests(
  log: (line: string) => void,
): Promise<{ env: Record<string, string>; missing: string[] }> {
  const env: Record<string, string> = {};
  if (Deno.env.get("XDG_RUNTIME_DIR") === undefined) {
    // WebGPU's Vulkan/EGL stack wants a private runtime directory.
    const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/a3g-xdg-${Deno.uid?.() ?? "user"}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dir, 0o700).catch(() => {});
    env.XDG_RUNTIME_DIR = dir;
    Deno.env.set("XDG_RUNTIME_DIR", dir); // for the adapter probe below too
  }
  const missing: string[] = [];
  const apt = await canApt();
  for (const p of PREREQUISITES) {
    if (await p.present()) continue;
    let ok = true;
    if (p.packages.length > 0) {
      if (apt) {
        log(`installing ${p.packages.join(" ")} for ${p.name}`);
        ok = await aptInstall(p.packages);
      } else {
        ok = false;
      }
    }
    if (ok && p.after !== undefined) {
      log(`setting up ${p.name}: ${p.after.join(" ")}`);
      ok = await succeeds(p.after[0], p.after.slice(1));
    }
    if (!ok || !(await p.present())) {
      const how = [
        p.packages.length > 0
          ? `apt-get install -y --no-install-recommends ${p.packages.join(" ")} (as root)`
          : "",
        p.after?.slice(1).join(" ") ? `deno ${p.after.slice(1).join(" ")}` : "",
      ].filter((s) => s !== "").join(", then ");
      missing.push(`${p.name}: missing; install with ${how}`);
    }
  }
  return { env, missing };
}

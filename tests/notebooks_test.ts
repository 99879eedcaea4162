// The notebooks are documentation users run, so they run here too: headlessly, in the Deno
// Jupyter kernel, through notebooks/run_notebook.py. Missing Jupyter pieces fail the test
// rather than skip it, so that a machine without them cannot pass by running nothing.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const notebooks = fileURLToPath(new URL("../notebooks/", import.meta.url));
// Debian's python3 has the apt-installed Jupyter modules; a python3 earlier on PATH may not.
const python = Deno.env.get("A3G_JUPYTER_PYTHON") ?? "/usr/bin/python3";

const INSTALL = "install them with\n" +
  "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y " +
  "--no-install-recommends jupyter-nbconvert jupyter-client\n" +
  "  deno jupyter --install --force\n" +
  "(or set A3G_JUPYTER_PYTHON to a python3 that has nbformat and jupyter_client)";

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
}

interface Cell {
  cell_type: string;
  id?: string;
  execution_count?: number | null;
  outputs?: Output[];
}

const joined = (text: string | string[] | undefined) =>
  Array.isArray(text) ? text.join("") : text ?? "";

async function runPython(code: string): Promise<{ ok: boolean; out: string; err: string }> {
  try {
    const { code: rc, stdout, stderr } = await new Deno.Command(python, {
      args: ["-c", code],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b).trim();
    return { ok: rc === 0, out: decode(stdout), err: decode(stderr) };
  } catch (error) {
    return { ok: false, out: "", err: String(error) };
  }
}

/** Fails with install instructions unless nbformat, jupyter_client and a Deno kernel are there. */
async function requireJupyter(): Promise<void> {
  const modules = await runPython("import nbformat, jupyter_client");
  assert.ok(
    modules.ok,
    `${python} cannot import nbformat and jupyter_client (${modules.err.split("\n").at(-1)}); ` +
      INSTALL,
  );
  const spec = await runPython(
    "import json, jupyter_client.kernelspec as k; " +
      "print(json.dumps(k.KernelSpecManager().get_kernel_spec('deno').argv))",
  );
  assert.ok(spec.ok, `no 'deno' Jupyter kernelspec (${spec.err.split("\n").at(-1)}); ${INSTALL}`);
  const deno = JSON.parse(spec.out)[0] as string;
  const exists = await Deno.stat(deno).then(() => true, () => false);
  assert.ok(exists, `the 'deno' kernelspec runs ${deno}, which does not exist; ${INSTALL}`);
}

async function execute(notebook: string, outPath: string): Promise<Cell[]> {
  const { code, stdout, stderr } = await new Deno.Command(python, {
    args: [`${notebooks}run_notebook.py`, `${notebooks}${notebook}`, outPath],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, `run_notebook.py ${notebook} exited ${code}:\n${text}`);
  return JSON.parse(await Deno.readTextFile(outPath)).cells as Cell[];
}

/** What an executed notebook printed and displayed, once every code cell ran without error. */
interface Executed {
  /** The stream outputs, joined. */
  text: string;
  /** The display data of every output. */
  data: Record<string, string | string[]>[];
}

/** Runs `notebook` in a temporary folder and checks that every code cell ran without error. */
async function executeChecked(notebook: string): Promise<Executed> {
  await requireJupyter();
  const dir = await Deno.makeTempDir({ prefix: "a3g_notebooks_" });
  try {
    const cells = await execute(notebook, `${dir}/${notebook}`);
    const code = cells.filter((c) => c.cell_type === "code");
    assert.ok(code.length > 0);
    for (const cell of code) {
      assert.ok(typeof cell.execution_count === "number", `cell ${cell.id} did not run`);
    }
    const outputs = code.flatMap((c) => c.outputs ?? []);
    const errors = outputs.filter((o) => o.output_type === "error");
    assert.deepEqual(errors.map((o) => `${o.ename}: ${o.evalue}`), [], "error outputs");
    const text = outputs.filter((o) => o.output_type === "stream").map((o) => joined(o.text))
      .join("");
    return { text, data: outputs.flatMap((o) => o.data ? [o.data] : []) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Checks the evaluation line of `episodes` greedy episodes and returns its mean. */
function evaluationMean(text: string, episodes: number): number {
  const evaluation = text.match(
    new RegExp(`evaluation: mean (-?[\\d.]+) ± [\\d.]+ over ${episodes} greedy episodes`),
  );
  assert.ok(evaluation, `no evaluation line in the output:\n${text}`);
  const mean = Number(evaluation[1]);
  assert.ok(Number.isFinite(mean), evaluation[0]);
  return mean;
}

/** Checks that an image/gif output is there and holds a GIF89a file. */
function assertGif(data: Record<string, string | string[]>[]): void {
  const gif = data.find((d) => "image/gif" in d);
  assert.ok(gif, "no image/gif output (the episode)");
  const bytes = Uint8Array.from(
    atob(joined(gif["image/gif"]).replace(/\s/g, "")),
    (c) => c.charCodeAt(0),
  );
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 6)), "GIF89a");
}

Deno.test("notebooks: quickstart.ipynb trains, plots, evaluates and shows a GIF", async () => {
  const { text, data } = await executeChecked("quickstart.ipynb");
  // uniformly random play lasts about 22 steps; the notebook's run stops once solved (≥ 475)
  const mean = evaluationMean(text, 10);
  assert.ok(mean >= 100, `the trained CartPole policy balances: mean ${mean} over 10 episodes`);
  const svg = data.find((d) => "image/svg+xml" in d);
  assert.ok(svg, "no image/svg+xml output (the learning curve)");
  assert.match(joined(svg["image/svg+xml"]), /^<svg[\s\S]*<polyline[\s\S]*<\/svg>$/);
  assertGif(data);
});

Deno.test("notebooks: pong.ipynb loads the shipped Pong model, evaluates it and shows a GIF", async () => {
  const { text, data } = await executeChecked("pong.ipynb");
  assert.match(text, /trained for [\d,]+ frames, [\d,]+ training episodes/);
  // the shipped model's 100-game mean is +16.00 (min 7; seeds 1–3: 15, 18, 13); random play
  // loses about −20.7
  const mean = evaluationMean(text, 3);
  assert.ok(mean >= 5, `the shipped Pong model wins its seeded games, got a mean of ${mean}`);
  assert.match(text, /evaluation: .* \(min -?\d+, max -?\d+\)/);
  assertGif(data);
});

Deno.test("notebooks: bipedal.ipynb shows the walker env, the shipped model's Gaussian policy and a GIF", async () => {
  const { text, data } = await executeChecked("bipedal.ipynb");
  assert.match(text, /observations: box \[24\]/);
  assert.match(text, /actions: box \[4\] in \[-1, 1\]/);
  assert.match(text, /env BipedalWalker-v3 \(preset bipedal\), model mlp-lstm/);
  assert.match(text, /action variance \[-?[\d.]+(, -?[\d.]+){3}\]/, "the policy's 4 variances");
  // the shipped walker scores about 316 on these seeds; solved is 300, falling scores −100
  const mean = evaluationMean(text, 3);
  assert.ok(mean >= 300, `the shipped walker walks the course: mean ${mean} over 3 episodes`);
  assertGif(data);
});

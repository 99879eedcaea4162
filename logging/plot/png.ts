/**
 * SVG to PNG with resvg (WebAssembly build, so no native binary), with the DejaVu Sans fonts of
 * the `dejavu-fonts-ttf` package: the PNG looks the same on every machine and needs no system
 * fonts.
 *
 * @module
 */
import { initWasm, Resvg } from "npm:@resvg/resvg-wasm@2.6.2";
// puts the font package in the module graph so its files resolve to paths below
import "npm:dejavu-fonts-ttf@2.37.3/package.json" with { type: "json" };

let ready: Promise<Uint8Array[]> | null = null;

async function load(): Promise<Uint8Array[]> {
  const wasm = new URL("index_bg.wasm", import.meta.resolve("npm:@resvg/resvg-wasm@2.6.2"));
  await initWasm(await Deno.readFile(wasm));
  return await Promise.all(
    ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((name) =>
      Deno.readFile(new URL(import.meta.resolve(`npm:dejavu-fonts-ttf@2.37.3/ttf/${name}`)))
    ),
  );
}

/**
 * Rasterises an SVG document to PNG bytes at `scale` times its size (2: sharp on high-density
 * screens). Text in any font family is drawn with DejaVu Sans.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  if (!(Number.isFinite(scale) && scale > 0)) {
    throw new RangeError(`scale must be a positive number, got ${scale}`);
  }
  ready ??= load();
  const fontBuffers = await ready;
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: {
      fontBuffers,
      loadSystemFonts: false,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
  });
  const image = resvg.render();
  try {
    return image.asPng();
  } finally {
    image.free();
    resvg.free();
  }
}

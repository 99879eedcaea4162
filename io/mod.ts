/**
 * Files users keep: safetensors read/write, checkpoints (safetensors weights + JSON state), ONNX
 * export and running, GIFs, PyTorch state_dicts read without unpickling, and atomic file
 * replacement.
 *
 * @module
 */
export * from "./atomic_file.ts";
export * from "./checkpoint.ts";
export * from "./safetensors.ts";
export * from "./onnx.ts";
export * from "./onnx_runtime.ts";
export * from "./gif.ts";
export * from "./torch_state_dict.ts";
export { importFile, type ImportOptions, importStateDict } from "./torch_import.ts";

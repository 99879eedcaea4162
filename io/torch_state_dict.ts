/**
 * Reads PyTorch `state_dict` files (`torch.save(model.state_dict(), "model.dat")`) without running
 * anything: a pickle reader that knows only the opcodes and the few globals a state_dict of tensors
 * needs (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`, the
 * storage classes) and refuses every other global by name. Both of torch's formats are read: the
 * zip archive of PyTorch ≥ 1.6 (`<name>/data.pkl` with one `<name>/data/<key>` file per storage)
 * and the legacy stream (magic number, protocol version, system info, the pickle, the storage keys,
 * then each storage's bytes).
 *
 * No npm library reads pickles without executing them, so the reader is written here; the zip
 * archive is opened with `fflate`.
 *
 * @example
 * ```ts
 * const tensors = readStateDict(await Deno.readFile("Pong-v0.dat"), "Pong-v0.dat");
 * for (const [name, t] of tensors) console.log(name, t.shape);
 * ```
 *
 * @module
 */
import { unzipSync } from "npm:fflate@0.8.3";

/** A file that is not a state_dict this reader accepts; the message names the file and why. */
export class StateDictError extends Error {
  override name = "StateDictError";
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
  }
}

/** One tensor of a state_dict, as float32 in row-major order. */
export interface StateDictTensor {
  shape: number[];
  data: Float32Array;
}

/** The storage classes a state_dict may reference, with their element sizes and readers. */
const STORAGE_TYPES: Record<string, { bytes: number; read: (v: DataView, at: number) => number }> =
  {
    FloatStorage: { bytes: 4, read: (v, at) => v.getFloat32(at, true) },
    DoubleStorage: { bytes: 8, read: (v, at) => v.getFloat64(at, true) },
    HalfStorage: { bytes: 2, read: (v, at) => half(v.getUint16(at, true)) },
    BFloat16Storage: {
      bytes: 2,
      read: (v, at) => new Float32Array(new Uint32Array([v.getUint16(at, true) << 16]).buffer)[0],
    },
  };

function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** The globals a state_dict pickle may name; any other is refused. */
const ALLOWED_GLOBALS = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`),
]);

class Global {
  constructor(readonly module: string, readonly name: string) {}
  get full(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage named by a persistent id: resolved to bytes once the archive is read. */
class StorageRef {
  constructor(readonly type: string, readonly key: string, readonly numel: number) {}
}

/** A tensor not yet materialised: a view of a storage. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const MARK = Symbol("mark");
type Value = unknown;

/**
 * Runs a pickle stream's opcodes far enough to build containers, numbers, strings, the allowed
 * globals' results and persistent storage references; returns the value at STOP and where the
 * stream ended.
 */
function unpickle(
  bytes: Uint8Array,
  start: number,
  source: string,
  persistentLoad: (pid: Value) => Value,
): { value: Value; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (problem: string): never => {
    throw new StateDictError(source, problem);
  };
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  let at = start;
  const need = (n: number) => {
    if (n < 0) fail(`has a negative length ${n} at byte ${at}`);
    if (at + n > bytes.length) fail(`truncated pickle at byte ${at}`);
  };
  const u8 = () => (need(1), bytes[at++]);
  const u16 = () => (need(2), at += 2, view.getUint16(at - 2, true));
  const u32 = () => (need(4), at += 4, view.getUint32(at - 4, true));
  const i32 = () => (need(4), at += 4, view.getInt32(at - 4, true));
  const raw = (n: number) => (need(n), at += n, bytes.subarray(at - n, at));
  const text = (n: number) => new TextDecoder().decode(raw(n));
  const line = () => {
    const end = bytes.indexOf(10, at);
    if (end < 0) fail(`truncated pickle at byte ${at}`);
    const s = new TextDecoder().decode(bytes.subarray(at, end));
    at = end + 1;
    return s;
  };
  const pop = (): Value => (stack.length === 0 ? fail("pickle stack underflow") : stack.pop());
  const popMark = (): Value[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail("pickle has no MARK where one is needed");
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const top = (): Value => (stack.length === 0 ? fail("pickle stack underflow") : stack.at(-1));
  const global = (module: string, name: string): Global => {
    const g = new Global(module, name);
    if (!ALLOWED_GLOBALS.has(g.full)) {
      fail(
        `refers to ${g.full}, which a state_dict of tensors does not need; nothing was run ` +
          `(allowed: ${[...ALLOWED_GLOBALS].join(", ")})`,
      );
    }
    return g;
  };
  // a number where it is exact, else a bigint (the legacy format's magic number)
  const long = (b: Uint8Array): number | bigint => {
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) n -= 1n << BigInt(8 * b.length);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(n)
      : n;
  };
  const call = (f: Value, args: Value): Value => {
    if (!(f instanceof Global)) fail("calls something that is not an allowed global");
    const g = f as Global;
    if (!Array.isArray(args)) fail(`calls ${g.full} without an argument tuple`);
    const a = args as Value[];
    switch (g.full) {
      case "collections.OrderedDict":
        return new Map();
      case "torch._utils._rebuild_tensor_v2": {
        const [storage, offset, shape, stride] = a;
        const ints = (x: Value) => Array.isArray(x) && x.every((v) => Number.isSafeInteger(v));
        if (
          !(storage instanceof StorageRef) || !Number.isSafeInteger(offset) || !ints(shape) ||
          !ints(stride) || (shape as number[]).length !== (stride as number[]).length
        ) fail("has a tensor whose storage, offset, size or stride is malformed");
        return new TensorRef(
          storage as StorageRef,
          offset as number,
          shape as number[],
          stride as number[],
        );
      }
      case "torch._utils._rebuild_parameter":
        if (!(a[0] instanceof TensorRef)) fail("has a parameter that holds no tensor");
        return a[0];
      default:
        return fail(`calls ${g.full}, which builds no value here`);
    }
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        raw(8);
        break;
      case 0x2e: // STOP
        return { value: pop(), end: at };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(raw(u8())));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(at, false));
        at += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(text(u8()));
        break;
      case 0x54: // BINSTRING
        stack.push(text(i32()));
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("has a malformed global");
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), f = pop();
        stack.push(call(f, args));
        break;
      }
      case 0x62: { // BUILD: state for an object; an OrderedDict's `_metadata` is dropped
        pop();
        top();
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`refers to memo entry ${key}, which was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 0x73: { // SETITEM
        const value = pop(), key = pop(), dict = top();
        if (!(dict instanceof Map)) fail("sets an item on something that is not a dict");
        (dict as Map<Value, Value>).set(key, value);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark(), dict = top();
        if (!(dict instanceof Map) || items.length % 2) fail("has malformed dict items");
        for (let i = 0; i < items.length; i += 2) {
          (dict as Map<Value, Value>).set(items[i], items[i + 1]);
        }
        break;
      }
      case 0x61: { // APPEND
        const value = pop(), list = top();
        if (!Array.isArray(list)) fail("appends to something that is not a list");
        (list as Value[]).push(value);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark(), list = top();
        if (!Array.isArray(list)) fail("appends to something that is not a list");
        for (const item of items) (list as Value[]).push(item);
        break;
      }
      default:
        fail(
          `uses pickle opcode 0x${op.toString(16)} at byte ${at - 1}, which a state_dict does ` +
            `not need; nothing was run`,
        );
    }
  }
}

/** A persistent id `('storage', <storage class>, key, location, numel, ...)` as a reference. */
function storageRef(pid: Value, source: string): StorageRef {
  const fail = (problem: string): never => {
    throw new StateDictError(source, problem);
  };
  if (!Array.isArray(pid) || pid[0] !== "storage" || !(pid[1] instanceof Global)) {
    fail("has a persistent id that is not a storage");
  }
  const [, type, key, , numel] = pid as [string, Global, Value, Value, Value];
  if (!(type.name in STORAGE_TYPES) || type.module !== "torch") {
    fail(`has a storage of type ${type.full}, expected ${Object.keys(STORAGE_TYPES).join(", ")}`);
  }
  if (typeof key !== "string" || !Number.isSafeInteger(numel) || (numel as number) < 0) {
    fail("has a storage whose key or size is malformed");
  }
  return new StorageRef(type.name, key as string, numel as number);
}

/** Copies a (possibly strided) view of a storage's bytes into a dense float32 tensor. */
function materialise(
  ref: TensorRef,
  bytes: Uint8Array,
  name: string,
  source: string,
): StateDictTensor {
  const { read, bytes: size } = STORAGE_TYPES[ref.storage.type];
  if (ref.shape.some((d) => d < 0) || ref.stride.some((d) => d < 0) || ref.offset < 0) {
    throw new StateDictError(
      source,
      `tensor ${name} has shape [${ref.shape}], stride [${ref.stride}] and offset ${ref.offset}; ` +
        `expected none negative`,
    );
  }
  const count = ref.shape.reduce((a, b) => a * b, 1);
  // a state_dict's tensors are views of their own storage: never more values than it holds
  if (count > ref.storage.numel || ref.storage.numel * size > bytes.length) {
    throw new StateDictError(
      source,
      `tensor ${name} of shape [${ref.shape}] needs ${count} values, its storage holds ` +
        `${ref.storage.numel} in ${bytes.length} bytes`,
    );
  }
  if (count > 0) {
    let last = ref.offset;
    for (let d = 0; d < ref.shape.length; d++) last += (ref.shape[d] - 1) * ref.stride[d];
    if (last >= ref.storage.numel) {
      throw new StateDictError(
        source,
        `tensor ${name} of shape [${ref.shape}] reaches past its storage ` +
          `(${ref.storage.numel} values)`,
      );
    }
  }
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const index = new Array(ref.shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = ref.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * ref.stride[d];
    data[i] = read(view, at * size);
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < ref.shape[d]) break;
      index[d] = 0;
    }
  }
  return { shape: [...ref.shape], data };
}

function tensors(
  root: Value,
  storages: (ref: StorageRef) => Uint8Array,
  source: string,
): Map<string, StateDictTensor> {
  if (!(root instanceof Map)) {
    throw new StateDictError(source, "holds no state_dict (expected a dict of tensors at the top)");
  }
  const out = new Map<string, StateDictTensor>();
  for (const [name, value] of root) {
    if (typeof name !== "string" || !(value instanceof TensorRef)) {
      throw new StateDictError(source, `entry ${String(name)} is not a named tensor`);
    }
    out.set(name, materialise(value, storages(value.storage), name, source));
  }
  return out;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** Reads a state_dict file's bytes (either format); `source` names the file in errors. */
export function readStateDict(
  bytes: Uint8Array,
  source = "state_dict",
): Map<string, StateDictTensor> {
  if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) return readZip(bytes, source);
  return readLegacy(bytes, source);
}

function readZip(bytes: Uint8Array, source: string): Map<string, StateDictTensor> {
  let files: Record<string, Uint8Array>;
  try {
    // only the pickle and the storages, each at most 4 GiB: nothing else is inflated
    files = unzipSync(bytes, {
      filter: (f) => /^[^/]+\/(data\.pkl|data\/[^/]+)$/.test(f.name) && f.originalSize < 2 ** 32,
    });
  } catch (error) {
    throw new StateDictError(source, `is not a readable zip archive (${(error as Error).message})`);
  }
  const pkl = Object.keys(files).find((f) => /^[^/]+\/data\.pkl$/.test(f));
  if (pkl === undefined) throw new StateDictError(source, "has no <name>/data.pkl in its archive");
  const prefix = pkl.slice(0, -"data.pkl".length);
  const { value } = unpickle(files[pkl], 0, source, (pid) => storageRef(pid, source));
  return tensors(value, (ref) => {
    const data = files[`${prefix}data/${ref.key}`];
    if (data === undefined) {
      throw new StateDictError(source, `has no ${prefix}data/${ref.key} for a storage it names`);
    }
    return data;
  }, source);
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function readLegacy(bytes: Uint8Array, source: string): Map<string, StateDictTensor> {
  const refs = new Map<string, StorageRef>();
  const noPersistent = () => {
    throw new StateDictError(source, "has a persistent id outside the state_dict");
  };
  let at = 0;
  const next = (persistent: (pid: Value) => Value) => {
    const r = unpickle(bytes, at, source, persistent);
    at = r.end;
    return r.value;
  };
  const magic = next(noPersistent);
  if (magic !== LEGACY_MAGIC) {
    throw new StateDictError(
      source,
      "is neither a zip archive nor a legacy torch.save stream (no magic number)",
    );
  }
  const protocol = next(noPersistent);
  if (protocol !== 1001) {
    throw new StateDictError(source, `has torch.save protocol ${protocol}, expected 1001`);
  }
  next(noPersistent); // system information: byte order and type sizes (little-endian assumed)
  const root = next((pid) => {
    const ref = storageRef(pid, source);
    const known = refs.get(ref.key);
    if (known === undefined) refs.set(ref.key, ref);
    return known ?? ref;
  });
  const keys = next(noPersistent);
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
    throw new StateDictError(source, "has a malformed list of storage keys");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Map<string, Uint8Array>();
  for (const key of keys as string[]) {
    const ref = refs.get(key);
    if (ref === undefined) {
      throw new StateDictError(source, `lists storage ${key}, which is unused`);
    }
    if (at + 8 > bytes.length) throw new StateDictError(source, `is truncated in storage ${key}`);
    const numel = Number(view.getBigUint64(at, true));
    const size = numel * STORAGE_TYPES[ref.type].bytes;
    if (numel !== ref.numel || at + 8 + size > bytes.length) {
      throw new StateDictError(source, `is truncated or inconsistent in storage ${key}`);
    }
    data.set(key, bytes.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return tensors(root, (ref) => {
    const d = data.get(ref.key);
    if (d === undefined) throw new StateDictError(source, `has no bytes for storage ${ref.key}`);
    return d;
  }, source);
}

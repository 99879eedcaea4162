import assert from "node:assert/strict";
import { basename, join } from "node:path";
import {
  crc32c,
  decodeRecords,
  DEFAULT_BUCKET_LIMITS,
  encodeRecord,
  EventFileError,
  FILE_VERSION,
  makeHistogram,
  maskedCrc32c,
  readEvents,
  SummaryWriter,
  type TensorBoardEvent,
} from "../logging/mod.ts";
import { withTempDir as withTempDirIn } from "./_assert.ts";

const withTempDir = (fn: (dir: string) => Promise<void>) => withTempDirIn(fn, "a3g_tb_");

const utf8 = new TextEncoder();

/** Summary values of all events, flattened with their steps. */
function values(events: TensorBoardEvent[]) {
  return events.flatMap((e) => (e.summary?.value ?? []).map((v) => ({ step: e.step, ...v })));
}

Deno.test("crc32c: standard check vectors and the TFRecord mask", () => {
  assert.equal(crc32c(utf8.encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43); // 32 bytes of 0xff
  // ((0xe3069283 >>> 15) | (0xe3069283 << 17)) + 0xa282ead8, mod 2^32
  assert.equal(maskedCrc32c(utf8.encode("123456789")), 0xc78ab0e5);
});

Deno.test("tfrecord: framing round trip, empty and non-empty records", () => {
  const records = [new Uint8Array(0), utf8.encode("hello"), new Uint8Array(300).fill(7)];
  const stream = new Uint8Array(records.reduce((n, r) => n + r.length + 16, 0));
  let offset = 0;
  for (const r of records) {
    const framed = encodeRecord(r);
    assert.equal(framed.length, r.length + 16);
    stream.set(framed, offset);
    offset += framed.length;
  }
  assert.deepEqual(decodeRecords(stream), records);
  const view = new DataView(stream.buffer);
  assert.equal(view.getBigUint64(16, true), 5n); // second record's length field
});

Deno.test("SummaryWriter: scalars, a histogram and text read back", async () => {
  await withTempDir(async (dir) => {
    const before = Date.now() / 1000;
    const writer = new SummaryWriter(join(dir, "run"), { host: "testhost" });
    for (let step = 0; step < 100; step++) writer.scalar("loss/policy", step * 0.25 - 3, step);
    writer.scalar("loss/value", 0, 100, 1234.5);
    writer.scalar("loss/value", NaN, 101);
    const data = Float32Array.from(
      { length: 1000 },
      (_, i) => Math.sin(i) * 3 + (i % 7 === 0 ? 0 : 0.5),
    );
    data[0] = 0;
    data[1] = -1e-13; // below the smallest limit, in the bucket just under 0
    writer.histogram("weights/fc1", data, 100);
    const markdown = '# Run config\n\n```json\n{"lr": 0.0001, "env": "CartPole-v1 ✓"}\n```';
    writer.text("config", markdown, 0);
    writer.close();
    assert.ok(writer.closed);

    const events = await readEvents(writer.path);
    assert.equal(events[0].fileVersion, FILE_VERSION);
    assert.equal(events[0].summary, undefined);
    assert.ok(events[0].wallTime >= Math.floor(before) && events[0].wallTime <= Date.now() / 1000);
    assert.equal(events.length, 1 + 102 + 1 + 1);

    const all = values(events);
    const policy = all.filter((v) => v.tag === "loss/policy");
    assert.deepEqual(policy.map((v) => v.step), [...Array(100).keys()]);
    assert.deepEqual(policy.map((v) => v.simpleValue), policy.map((v) => v.step * 0.25 - 3));
    assert.ok(policy.every((v) => v.value === "simpleValue"));

    const value = all.filter((v) => v.tag === "loss/value");
    assert.equal(value[0].simpleValue, 0); // a zero is written, not left out of the oneof
    assert.equal(value[0].value, "simpleValue");
    assert.equal(events.find((e) => e.step === 100 && e.wallTime === 1234.5)?.step, 100);
    assert.ok(Number.isNaN(value[1].simpleValue));

    const [h] = all.filter((v) => v.tag === "weights/fc1");
    assert.equal(h.step, 100);
    assert.equal(h.value, "histo");
    const histo = h.histo!;
    assert.equal(histo.num, data.length);
    assert.equal(histo.bucket.reduce((a, b) => a + b, 0), data.length);
    assert.equal(histo.min, Math.min(...data));
    assert.equal(histo.max, Math.max(...data));
    const sum = data.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(histo.sum - sum) < 1e-9 * data.length);
    const sumSquares = data.reduce((a, b) => a + b * b, 0);
    assert.ok(Math.abs(histo.sumSquares - sumSquares) < 1e-9 * sumSquares);
    assert.equal(histo.bucketLimit.length, histo.bucket.length);
    for (let i = 1; i < histo.bucketLimit.length; i++) {
      assert.ok(histo.bucketLimit[i] > histo.bucketLimit[i - 1], `limit ${i} increases`);
    }
    // Every bucket counts exactly the values in [previous limit, limit).
    for (let i = 0; i < histo.bucket.length; i++) {
      const lo = i === 0 ? -Infinity : histo.bucketLimit[i - 1], hi = histo.bucketLimit[i];
      assert.equal(histo.bucket[i], data.filter((x) => x >= lo && x < hi).length, `bucket ${i}`);
    }
    assert.ok(histo.bucketLimit.includes(0) && histo.bucketLimit.includes(1e-12));

    const [t] = all.filter((v) => v.tag === "config");
    assert.equal(t.value, "tensor");
    assert.equal(t.metadata?.pluginData?.pluginName, "text");
    assert.equal(t.metadata?.dataClass, 2);
    assert.equal(t.tensor?.dtype, 7);
    assert.deepEqual(t.tensor?.tensorShape?.dim, []);
    assert.equal(t.tensor?.stringVal.length, 1);
    assert.equal(new TextDecoder().decode(t.tensor!.stringVal[0]), markdown);
  });
});

Deno.test("makeHistogram: default limits, collapsed empty runs, edge cases", () => {
  const limits = DEFAULT_BUCKET_LIMITS;
  assert.equal(limits.length, 1551);
  const mid = (limits.length - 1) / 2;
  assert.equal(limits[mid], 0);
  assert.equal(limits[mid + 1], 1e-12);
  assert.ok(Math.abs(limits[mid + 2] / 1.1e-12 - 1) < 1e-12);
  assert.ok(limits[limits.length - 2] < 1e20 && limits[limits.length - 2] * 1.1 >= 1e20);
  assert.equal(limits[limits.length - 1], Number.MAX_VALUE);
  for (let i = 0; i < mid; i++) assert.equal(limits[i], -limits[limits.length - 1 - i]);

  // Values exactly on a limit go to the next bucket ([prev, limit) buckets).
  const h = makeHistogram([0, 0, 1e-12]);
  assert.deepEqual(h.bucket.filter((c) => c > 0), [2, 1]);
  assert.equal(h.bucketLimit[h.bucket.indexOf(2)], 1e-12);
  // Each run of empty buckets collapses into one ending where the run ends.
  assert.deepEqual(h.bucket, [0, 2, 1, 0]);
  assert.deepEqual(h.bucketLimit, [0, 1e-12, limits[mid + 2], Number.MAX_VALUE]);

  const empty = makeHistogram(new Float32Array(0));
  assert.deepEqual([empty.num, empty.min, empty.max, empty.sum], [0, 0, 0, 0]);
  assert.deepEqual(empty.bucket, [0]);
  assert.deepEqual(empty.bucketLimit, [Number.MAX_VALUE]);

  const huge = makeHistogram([3e38, -3e38]);
  assert.equal(huge.bucket.reduce((a, b) => a + b, 0), 2);
  assert.throws(() => makeHistogram([1, NaN], "w"), /histogram "w": values\[1\] is NaN/);
  assert.throws(() => makeHistogram([Infinity]), /values\[0\] is Infinity/);
});

Deno.test("SummaryWriter: buffers records and appends them on flush", async () => {
  await withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir, { host: "h", flushMillis: 3_600_000 });
    const header = (await Deno.stat(writer.path)).size;
    assert.ok(header > 0, "the file-version record is written at once");
    for (let step = 0; step < 50; step++) writer.scalar("x", step, step);
    assert.equal((await Deno.stat(writer.path)).size, header);
    assert.ok(writer.pending > 0);
    writer.flush();
    assert.equal(writer.pending, 0);
    const flushed = (await Deno.stat(writer.path)).size;
    assert.ok(flushed > header);
    writer.scalar("x", 50, 50);
    writer.close();
    assert.ok((await Deno.stat(writer.path)).size > flushed);
    assert.equal(values(await readEvents(writer.path)).length, 51);
  });
  await withTempDir(async (dir) => {
    // A small flushBytes makes the writer append as it goes.
    const writer = new SummaryWriter(dir, { host: "h", flushBytes: 100 });
    for (let step = 0; step < 20; step++) writer.scalar("x", step, step);
    assert.ok(writer.pending < 100);
    assert.ok(values(await readEvents(writer.path)).length >= 15);
    writer.close();
  });
});

Deno.test("SummaryWriter: bad arguments throw and keep the earlier records", async () => {
  await withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir, { host: "h" });
    writer.scalar("ok", 1, 1);
    assert.throws(
      () => writer.histogram("w", Float32Array.of(1, NaN), 2),
      /histogram "w": values\[1\] is NaN, expected finite numbers/,
    );
    assert.throws(
      () => writer.scalar("ok", 2, 1.5),
      /scalar "ok": step is 1.5, expected a safe integer/,
    );
    assert.throws(() => writer.scalar("", 2, 2), /tag is "", expected a non-empty string/);
    assert.throws(() => writer.scalar("ok", 2, 2, NaN), /wallTime is NaN/);
    writer.scalar("ok", 3, 3);
    writer.close();
    writer.close(); // closing twice is harmless
    assert.throws(() => writer.scalar("late", 1, 4), /written after close\(\)/);
    const all = values(await readEvents(writer.path));
    assert.deepEqual(all.map((v) => [v.tag, v.step, v.simpleValue]), [["ok", 1, 1], ["ok", 3, 3]]);
  });
});

Deno.test("readEvents: a flipped byte is reported with the file and record index", async () => {
  await withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir, { host: "h" });
    for (let step = 0; step < 5; step++) writer.scalar("x", step, step);
    writer.close();
    const bytes = await Deno.readFile(writer.path);
    const records = decodeRecords(bytes);
    const starts = [0];
    for (const r of records) starts.push(starts[starts.length - 1] + r.length + 16);

    const data = bytes.slice();
    data[starts[3] + 12 + 2] ^= 0x01; // inside record 3's data
    await Deno.writeFile(writer.path, data);
    await assert.rejects(readEvents(writer.path), (error: unknown) => {
      assert.ok(error instanceof EventFileError);
      assert.equal(error.file, writer.path);
      assert.equal(error.record, 3);
      assert.match(error.message, /record 3: data CRC mismatch/);
      assert.ok(error.message.startsWith(writer.path));
      return true;
    });

    const length = bytes.slice();
    length[starts[2]] ^= 0x40; // record 2's length field
    await Deno.writeFile(writer.path, length);
    await assert.rejects(readEvents(writer.path), /record 2: length CRC mismatch/);

    const crc = bytes.slice();
    crc[bytes.length - 1] ^= 0x80; // the last record's data CRC
    await Deno.writeFile(writer.path, crc);
    await assert.rejects(readEvents(writer.path), /record 5: data CRC mismatch/);
  });
});

Deno.test("readEvents: a truncated file is reported with the file and record index", async () => {
  await withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir, { host: "h" });
    writer.scalar("x", 1, 1);
    writer.scalar("x", 2, 2);
    writer.close();
    const bytes = await Deno.readFile(writer.path);
    assert.equal((await readEvents(writer.path)).length, 3);

    await Deno.writeFile(writer.path, bytes.subarray(0, bytes.length - 3));
    await assert.rejects(readEvents(writer.path), (error: unknown) => {
      assert.ok(error instanceof EventFileError);
      assert.equal(error.record, 2);
      assert.match(error.message, new RegExp(`^${writer.path}: record 2: truncated`));
      return true;
    });
    const last = bytes.length - decodeRecords(bytes)[2].length - 16;
    await Deno.writeFile(writer.path, bytes.subarray(0, last + 5)); // inside the header
    await assert.rejects(readEvents(writer.path), /record 2: truncated header .*5 bytes left/);
    await Deno.writeFile(writer.path, bytes.subarray(0, last)); // whole records only: fine
    assert.equal((await readEvents(writer.path)).length, 2);
  });
});

Deno.test("SummaryWriter: file name events.out.tfevents.<unix seconds>.<host>", async () => {
  await withTempDir(async (dir) => {
    const before = Math.floor(Date.now() / 1000);
    const a = new SummaryWriter(join(dir, "nested", "run"), { host: "box-1.lan" });
    const b = new SummaryWriter(join(dir, "nested", "run"), { host: "box-1.lan" });
    const after = Math.floor(Date.now() / 1000);
    a.close();
    b.close();
    const match = /^events\.out\.tfevents\.(\d+)\.box-1\.lan$/.exec(basename(a.path));
    assert.ok(match, basename(a.path));
    assert.ok(Number(match[1]) >= before && Number(match[1]) <= after);
    assert.notEqual(a.path, b.path); // a second writer never overwrites the first
    assert.ok(basename(b.path).includes("tfevents"));

    const c = new SummaryWriter(dir, { host: "h", filenameSuffix: ".worker0" });
    c.close();
    assert.match(basename(c.path), /^events\.out\.tfevents\.\d+\.h\.worker0$/);
    const d = new SummaryWriter(dir); // host from the system
    d.close();
    assert.match(basename(d.path), /^events\.out\.tfevents\.\d+\.[^/]+$/);
    assert.equal((await readEvents(d.path))[0].fileVersion, "brain.Event:2");
  });
});

Deno.test("SummaryWriter: buffered records reach the file when the program exits", async () => {
  await withTempDir(async (dir) => {
    const script = join(dir, "exit.ts");
    const mod = new URL("../logging/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { SummaryWriter } from ${JSON.stringify(mod)};
const writer = new SummaryWriter(${JSON.stringify(join(dir, "run"))}, { host: "h" });
for (let step = 0; step < 10; step++) writer.scalar("x", step, step);
console.log(writer.pending > 0 ? writer.path : "");`,
    );
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", script],
      stdout: "piped",
    }).output();
    assert.equal(code, 0);
    const path = new TextDecoder().decode(stdout).trim();
    assert.ok(path, "records were still buffered when the script ended");
    assert.equal(values(await readEvents(path)).length, 10);
  });
});

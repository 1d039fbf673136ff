// node-compile.mjs - V8's compile time for a module, synchronously on the
// main thread (run node with --single-threaded so no background compile
// task helps, and with --no-wasm-lazy-compilation so every function is
// compiled).  One warm-up compile is not counted.  Each repetition appends a differently named custom section,
// so V8's module cache cannot answer from an earlier compile.
//   node [flags] node-compile.mjs FILE REPS   ->  "compile_ms MEDIAN ms"
import { readFileSync } from 'node:fs';
import { argv } from 'node:process';
const [file, repsArg] = argv.slice(2);
const base = readFileSync(file);
const reps = Number(repsArg || 5);
const times = [];
// one warm-up compile, not counted (bench/micro.c does the same)
new WebAssembly.Module(Buffer.concat([base, Buffer.from([0, 7, 6]), Buffer.from('warmup')]));
for (let i = 0; i < reps; i++) {
  const name = Buffer.from(`bench${i}`);
  const extra = Buffer.concat([Buffer.from([0, name.length + 1, name.length]), name]);
  const bytes = Buffer.concat([base, extra]);
  const t0 = process.hrtime.bigint();
  new WebAssembly.Module(bytes);
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((a, b) => a - b);
const med = reps % 2 ? times[(reps - 1) / 2] : (times[reps / 2 - 1] + times[reps / 2]) / 2;
console.log(`compile_ms ${med.toFixed(3)} ms`);

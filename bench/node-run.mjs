// node-run.mjs - runs a wasm32-wasi program under node's WASI for the
// benchmark (V8's tier is chosen by node's flags):  node node-run.mjs PROG.wasm [ARGS...]
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { argv, exit } from 'node:process';
const [prog, ...args] = argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [prog, ...args], env: {}, returnOnExit: true });
const mod = new WebAssembly.Module(readFileSync(prog));
const inst = new WebAssembly.Instance(mod, wasi.getImportObject());
// the WASI object must outlive start(): node 20 lets a garbage collection
// during the run (external memory pressure: a large wasm memory) destroy
// it, and uvwasi then aborts on a mutex still in use
globalThis.keepWasi = wasi;
exit(wasi.start(inst));

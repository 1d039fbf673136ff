// node-run.mjs - runs a wasm32-wasi program under node's WASI for the
// benchmark (V8's tier is chosen by node's flags):  node node-run.mjs PROG.wasm [ARGS...]
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { argv, exit } from 'node:process';
const [prog, ...args] = argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [prog, ...args], env: {}, returnOnExit: true });
const mod = new WebAssembly.Module(readFileSync(prog));
const inst = new WebAssembly.Instance(mod, wasi.getImportObject());
exit(wasi.start(inst));

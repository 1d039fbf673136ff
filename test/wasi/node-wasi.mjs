// node-wasi.mjs - runs a wasm32-wasi program under node's WASI, for the
// comparison in test/run-cli.sh:  node node-wasi.mjs DIR PROG.wasm [ARGS...]
// DIR is preopened as "data"; MODE is the only environment variable.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, env, exit } from 'node:process';
const [dir, prog, ...args] = argv.slice(2);
const wasi = new WASI({
  version: 'preview1', args: [prog, ...args], returnOnExit: true,
  env: env.MODE !== undefined ? { MODE: env.MODE } : {},
  preopens: { data: dir },
});
const mod = await WebAssembly.compile(await readFile(prog));
const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());
exit(wasi.start(inst));

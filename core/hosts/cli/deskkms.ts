#!/usr/bin/env node
// Entry point of the deskkms command (Node >= 24, runs TypeScript directly). Only light modules load
// before a command is chosen (run.ts). Node's compile cache is bin/run-with-node's to turn on, in a
// per-user 0700 directory: Node's default one is shared under the OS temp dir, where another local
// user could plant compiled code.
const { runCli } = await import('./run.ts');

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  cwd: process.cwd(),
  env: process.env,
});

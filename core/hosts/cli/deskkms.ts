#!/usr/bin/env node
// Entry point of the deskkms command (Node >= 24, runs TypeScript directly). The compile cache
// (Node's default directory under the OS temp dir) keeps the compiled and type-stripped modules
// between runs: a cold start then costs little more than Node itself.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { runCli } = await import('./run.ts');

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  cwd: process.cwd(),
  env: process.env,
});

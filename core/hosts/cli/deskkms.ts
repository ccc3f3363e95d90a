#!/usr/bin/env node
// Entry point of the deskkms command (Node >= 24, runs TypeScript directly).
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  cwd: process.cwd(),
  env: process.env,
});

// What the X.509 commands (csr, cert) share. Their signing now happens in the CSR and
// certificate Actions (core/actions/x509-handlers.ts), so the CLI, batch and the app run one
// implementation; this module keeps the output side.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO, FlagValues } from './command.ts';

/** Public output (PEM certificates, requests): to --out FILE (mode 0644) or stdout. */
export async function writePublicOutput(flags: FlagValues, io: CliIO, text: string): Promise<void> {
  if (typeof flags.out === 'string') await writeFile(resolve(io.cwd, flags.out), text, { mode: 0o644 });
  else io.stdout.write(text);
}

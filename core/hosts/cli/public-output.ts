// Where the X.509 commands (csr, cert) write what the CSR and certificate Actions answered; the
// signing itself is those Actions' (core/actions/create-certificate-signing-request.ts, ...).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIO, FlagValues } from './command.ts';

/** Public output (PEM certificates, requests): to --out FILE (mode 0644) or stdout. */
export async function writePublicOutput(flags: FlagValues, io: CliIO, text: string): Promise<void> {
  if (typeof flags.out === 'string') await writeFile(resolve(io.cwd, flags.out), text, { mode: 0o644 });
  else io.stdout.write(text);
}

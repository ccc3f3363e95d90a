// age-plugin-deskkms when the vault cannot be opened: age hears the vault's error for the identity
// (the spec's "error" stanza), and the plugin ends as a plugin that answered ends, with nothing on
// stderr. (A vault that opens is driven by the real age in test/interop/age-plugin.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StanzaReader, type Stanza } from '../../formats/age-stanza.ts';
import { takePrestartedKeyWorker } from '../../worker/prestart.ts';
import type { CliIO } from '../cli/command.ts';
import { ageDecryptInput } from '../../../test/support/age-plugin-input.ts';
import { runAgePlugin } from './age-plugin.ts';

const KEY_ID = '5b3f3c4e-7a43-4c2b-9d0e-2f4f3b6a1c11';

async function stanzasOf(bytes: string): Promise<Stanza[]> {
  const reader = new StanzaReader(Readable.from([Buffer.from(bytes, 'latin1')]));
  const out: Stanza[] = [];
  for (let s = await reader.next(); s; s = await reader.next()) out.push(s);
  return out;
}

describe('age-plugin-deskkms with a vault that does not open', () => {
  it('answers age with the error for the identity, then done, and exits 0 without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskkms-age-plugin-'));
    let stdout = '';
    let stderr = '';
    const stdin = new PassThrough();
    stdin.end(ageDecryptInput(KEY_ID));
    const io = {
      stdout: { write: (text: string) => ((stdout += text), true) },
      stderr: { write: (text: string) => ((stderr += text), true) },
      stdin,
      cwd: dir,
      env: { DESKKMS_VAULT: join(dir, 'no-vault'), DESKKMS_NO_AGENT: '1' },
    } as unknown as CliIO;
    try {
      expect(await runAgePlugin(['--age-plugin=identity-v1'], io)).toBe(0);
      const answered = await stanzasOf(stdout);
      expect(answered.map((s) => [s.type, ...s.args])).toEqual([['error', 'identity', '0'], ['done']]);
      expect(Buffer.from(answered[0]!.body).toString()).toMatch(/^DeskKMS: InvalidParameter: --vault: .*no-vault holds no vault/);
      expect(stderr).toBe('');
    } finally {
      await takePrestartedKeyWorker()?.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

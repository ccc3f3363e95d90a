// The age plugin protocol's stanza encoding (C2SP age-plugin, "Binary encoding"): 64-column
// unpadded base64 ending with a short line (empty when the body fills whole lines), read back
// one stanza at a time.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StanzaReader, encodeStanza } from './age-stanza.ts';

describe('age plugin stanzas', () => {
  it('ends a body of whole 48-byte lines with an empty line, and a short one with its short line', () => {
    expect(encodeStanza('done', [])).toBe('-> done\n\n');
    const whole = encodeStanza('file-key', ['0'], new Uint8Array(48));
    expect(whole.split('\n')).toEqual(['-> file-key 0', 'A'.repeat(64), '', '']);
    expect(encodeStanza('msg', [], new TextEncoder().encode('hi'))).toBe('-> msg\naGk\n');
    expect(() => encodeStanza('x', ['has space'])).toThrow(/printable ASCII without spaces/);
  });

  it('reads back what it writes, across chunk boundaries, and refuses malformed input', async () => {
    const input = new PassThrough();
    const reader = new StanzaReader(input);
    const body = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const wire = encodeStanza('recipient-stanza', ['0', 'deskkms', 'kms', 'k'], body) + encodeStanza('done', []);
    for (let i = 0; i < wire.length; i += 7) input.write(wire.slice(i, i + 7));
    const first = await reader.next();
    expect(first).toMatchObject({ type: 'recipient-stanza', args: ['0', 'deskkms', 'kms', 'k'] });
    expect(Buffer.from(first!.body).equals(Buffer.from(body))).toBe(true);
    expect(await reader.next()).toMatchObject({ type: 'done', args: [] });
    input.write('not a stanza\n');
    await expect(reader.next()).rejects.toMatchObject({ code: 'Format.Malformed' });
    input.end();
    expect(await reader.next()).toBeUndefined();
  });
});

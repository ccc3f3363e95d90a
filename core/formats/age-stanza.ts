// The stanzas of age's plugin protocol (C2SP age-plugin, "Binary encoding"): a line
// "-> TYPE ARG...", then the body in unpadded standard base64, 64 columns per line, ended by a line
// shorter than 64 (empty when the body fills whole lines). A reader over a byte stream that hands
// out one stanza at a time (the protocol is interactive: age waits for answers), and a writer.
import { KmsError } from '../contract/errors.ts';

export interface Stanza {
  readonly type: string;
  readonly args: readonly string[];
  readonly body: Uint8Array;
}

const ARG = /^[\x21-\x7e]+$/;
const B64_LINE = /^[A-Za-z0-9+/]*$/;

function malformed(why: string): KmsError {
  return new KmsError('Format.Malformed', `age plugin protocol: ${why}`);
}

/** One stanza as its bytes on the wire. */
export function encodeStanza(type: string, args: readonly string[], body: Uint8Array = new Uint8Array(0)): string {
  for (const a of [type, ...args]) if (!ARG.test(a)) throw new KmsError('InternalFailure', `an age stanza argument must be printable ASCII without spaces: ${JSON.stringify(a).slice(0, 40)}`);
  const b64 = Buffer.from(body).toString('base64').replace(/=+$/, '');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  if (b64.length % 64 === 0) lines.push('');
  return `-> ${[type, ...args].join(' ')}\n${lines.join('\n')}\n`;
}

/** Reads stanzas from `input` as they arrive. `next()` answers undefined at the end of input. */
export class StanzaReader {
  private buffer = '';
  private ended = false;
  private waiting: (() => void) | undefined;
  private readonly lines: string[] = [];

  constructor(input: NodeJS.ReadableStream) {
    input.setEncoding?.('latin1');
    input.on('data', (chunk: string | Buffer) => {
      this.buffer += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    input.on('end', () => {
      this.ended = true;
      this.wake();
    });
    input.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private async line(): Promise<string | undefined> {
    for (;;) {
      const l = this.lines.shift();
      if (l !== undefined) return l;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  async next(): Promise<Stanza | undefined> {
    const header = await this.line();
    if (header === undefined) return undefined;
    if (!header.startsWith('-> ')) throw malformed(`expected a stanza ("-> TYPE ..."), got ${JSON.stringify(header.slice(0, 40))}`);
    const [type, ...args] = header.slice(3).split(' ');
    if (!type || ![type, ...args].every((a) => ARG.test(a))) throw malformed(`a stanza header with an empty or non-printable argument: ${JSON.stringify(header.slice(0, 60))}`);
    let b64 = '';
    for (;;) {
      const l = await this.line();
      if (l === undefined) throw malformed(`the input ended inside the body of "${type}"`);
      if (l.length > 64 || !B64_LINE.test(l)) throw malformed(`a body line of "${type}" is not base64 of at most 64 columns`);
      b64 += l;
      if (l.length < 64) break;
    }
    if (b64.length % 4 === 1) throw malformed(`the body of "${type}" is not base64`);
    return { type, args, body: new Uint8Array(Buffer.from(b64, 'base64')) };
  }
}

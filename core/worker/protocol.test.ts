// The key worker's hand-written check of `sign` requests (protocol.ts parseWorkerRequest) against
// the zod schema it stands in for. What the hand check refuses goes on to the schema, so the two
// verdicts can differ only where the hand check passes something the schema refuses: on every
// message below, valid or broken one way or several, they must not.
import { describe, expect, it } from 'vitest';
import { parseWorkerRequest, signRequest, workerRequest } from './protocol.ts';

type Message = Record<string, unknown>;

const valid = (): Message => ({
  seq: 7,
  op: 'sign',
  key: { keyId: 'key-1', keyVersionId: 'version-1', spec: 'EC_P256', sealed: new Uint8Array([1, 2, 3]) },
  algorithm: 'ECDSA_SHA_256',
  digest: new Uint8Array(32),
});

/** One way to break (or keep valid) a message: a field of it or of its key set to a value, or removed. */
type Edit = (m: Message) => void;
const top = (name: string, value: unknown): Edit => (m) => void (m[name] = value);
const inKey = (name: string, value: unknown): Edit => (m) => void ((m.key as Message)[name] = value);
const drop = (name: string): Edit => (m) => void delete m[name];
const dropInKey = (name: string): Edit => (m) => void delete (m.key as Message)[name];

const EDITS: readonly Edit[] = [
  ...[1.5, Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 2 ** 53, 2 ** 53 - 1, '7', undefined, null].map((v) => top('seq', v)),
  ...['Sign', 'decrypt', '', undefined].map((v) => top('op', v)),
  ...['toString', '__proto__', 'constructor', 'ECDSA_SHA_256 ', '', 5, 'RSA_PSS_SHA_256', 'SM2DSA', 'AES_GCM'].map((v) => top('algorithm', v)),
  ...[Buffer.alloc(32), new Uint16Array(16), new ArrayBuffer(32), [1, 2], 'AAAA', null, new DataView(new ArrayBuffer(4))].map((v) => top('digest', v)),
  ...[null, [], 'key', Object.create(null) as object, { keyId: 'k' }].map((v) => top('key', v)),
  ...['', 'k', 'x'.repeat(128), 'x'.repeat(129), 5, null].map((v) => inKey('keyId', v)),
  ...['', 'x'.repeat(128), 'x'.repeat(129), undefined].map((v) => inKey('keyVersionId', v)),
  ...['EC_P999', 'RSA_2048', 'EC_SM2', 'AES_256', 'hasOwnProperty', 1].map((v) => inKey('spec', v)),
  ...[Buffer.from('ab'), new ArrayBuffer(3), [1], 'sealed'].map((v) => inKey('sealed', v)),
  ...['seq', 'op', 'key', 'algorithm', 'digest'].map(drop),
  ...['keyId', 'keyVersionId', 'spec', 'sealed'].map(dropInKey),
  top('extra', 1),
  top('extra', undefined),
  inKey('extra', 'x'),
  inKey('extra', undefined),
];

/** The combined verdict, whether the hand check passed it (fast), and the schema's verdict alone. */
function verdicts(message: unknown): { hand: boolean; fast: boolean; schema: boolean } {
  const hand = parseWorkerRequest(message);
  const fast = signRequest(message);
  const schema = workerRequest.safeParse(message);
  // what the hand check passes, it passes as the schema would have given it
  if (fast !== undefined && schema.success) expect(fast).toEqual(schema.data);
  return { hand: hand.success, fast: fast !== undefined, schema: schema.success };
}

describe('the key worker checks sign requests by hand as its schema would', () => {
  it('passes a valid request without the schema, as the schema gives it (a copy)', () => {
    const message = valid();
    expect(verdicts(message)).toEqual({ hand: true, fast: true, schema: true });
    expect(signRequest(message)).not.toBe(message);
  });

  it('refuses what only a hand check could miss: hidden or inherited properties, and getters', () => {
    const hidden = valid();
    Object.defineProperty(hidden, 'digest', { value: new Uint8Array(32), enumerable: false });
    hidden.extra = 1;
    expect(verdicts(hidden)).toEqual({ hand: false, fast: false, schema: false });
    const hiddenSealed = valid();
    Object.defineProperty(hiddenSealed.key as object, 'sealed', { value: new Uint8Array(3), enumerable: false });
    (hiddenSealed.key as Message).extra = 1;
    expect(verdicts(hiddenSealed)).toEqual({ hand: false, fast: false, schema: false });
    // an enumerable property inherited from Object.prototype
    Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true, writable: true });
    try {
      expect(verdicts(valid())).toEqual({ hand: false, fast: false, schema: false });
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    // a getter that answers bytes to the check and a string afterwards: read once, copied
    let reads = 0;
    const twoFaced = valid();
    Object.defineProperty(twoFaced, 'digest', { get: () => (reads++ === 0 ? new Uint8Array(32) : 'not bytes'), enumerable: true });
    const copy = signRequest(twoFaced);
    expect(copy?.digest).toBeInstanceOf(Uint8Array);
    expect(reads).toBe(1);
  });

  it('gives the schema verdict on every single edit of a valid request', () => {
    let refused = 0;
    EDITS.forEach((edit, i) => {
      const message = valid();
      edit(message);
      const v = verdicts(message);
      expect(v.hand, `edit ${i}: ${JSON.stringify(message, (_k, x: unknown) => (x instanceof Uint8Array ? 'bytes' : x))}`).toBe(v.schema);
      if (v.fast) expect(v.schema).toBe(true);
      if (!v.schema) refused++;
    });
    expect(refused).toBeGreaterThan(EDITS.length / 2); // most edits break the request
  });

  it('gives the schema verdict on 5,000 requests broken in two to four places at once', () => {
    let seed = 1;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let fast = 0;
    for (let i = 0; i < 5000; i++) {
      const message = valid();
      for (let e = 2 + random(3); e > 0; e--) {
        try {
          EDITS[random(EDITS.length)]!(message);
        } catch {
          // an edit inside a key that is no longer an object
        }
      }
      const v = verdicts(message);
      expect(v.hand).toBe(v.schema);
      if (v.fast) {
        expect(v.schema).toBe(true);
        fast++;
      }
    }
    expect(fast).toBeGreaterThan(0);
  });

  it('leaves every other request to the schema', () => {
    const message = { seq: 1, op: 'lock' };
    expect(signRequest(message)).toBeUndefined();
    expect(parseWorkerRequest(message)).toEqual({ success: true, data: { seq: 1, op: 'lock' } });
    expect(parseWorkerRequest({ seq: 1, op: 'nothing' })).toMatchObject({ success: false });
  });
});

// The ssh-agent framing and message layouts: frames split and joined across chunks, the 256 KiB
// cap, strict contents (trailing or missing bytes are Format.Malformed), session-bind, and the
// answers read back by the client-side parsers.
import { describe, expect, it } from 'vitest';
import { KmsError } from '../../contract/errors.ts';
import { SshWriter } from '../../formats/ssh-wire.ts';
import {
  FrameReader,
  MAX_FRAME,
  MSG,
  SESSION_BIND_EXTENSION,
  extensionRequest,
  frame,
  identitiesAnswer,
  parseIdentitiesAnswer,
  parseJsonExtension,
  parseRequest,
  parseSessionBind,
  parseSignResponse,
  signRequest,
  signResponse,
} from './ssh-agent-wire.ts';

const malformed = (f: () => unknown): void => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(KmsError);
    expect((error as KmsError).code).toBe('Format.Malformed');
    return;
  }
  throw new Error('expected Format.Malformed');
};

describe('FrameReader', () => {
  it('reads frames split over chunks and several in one chunk', () => {
    const bytes = Buffer.concat([frame(MSG.REQUEST_IDENTITIES), signRequest({ keyBlob: Uint8Array.of(1, 2), data: Uint8Array.of(3), flags: 2 }), frame(99)]);
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) got.push(...reader.push(bytes.subarray(i, i + 3)));
    expect(got.map((f) => f[0])).toEqual([MSG.REQUEST_IDENTITIES, MSG.SIGN_REQUEST, 99]);
    expect(reader.buffered).toBe(0);
    expect(new FrameReader().push(bytes).length).toBe(3);
  });

  it('takes a frame of exactly 256 KiB and refuses one byte more, and a frame of length 0', () => {
    const reader = new FrameReader();
    expect(reader.push(new SshWriter().uint32(MAX_FRAME).raw(new Uint8Array(MAX_FRAME)).bytes())).toHaveLength(1);
    malformed(() => new FrameReader().push(new SshWriter().uint32(MAX_FRAME + 1).bytes()));
    malformed(() => new FrameReader().push(new SshWriter().uint32(0).bytes()));
  });

  it('append/shift hand out one frame at a time and keep the rest buffered (review F4)', () => {
    const reader = new FrameReader();
    const one = frame(MSG.REQUEST_IDENTITIES);
    reader.append(Buffer.concat([one, one, one.subarray(0, 3)]));
    expect(reader.shift()).toEqual(Uint8Array.of(MSG.REQUEST_IDENTITIES));
    expect(reader.buffered).toBe(one.length + 3);
    expect(reader.shift()).toEqual(Uint8Array.of(MSG.REQUEST_IDENTITIES));
    expect(reader.shift()).toBeUndefined();
    reader.append(one.subarray(3));
    expect(reader.shift()).toEqual(Uint8Array.of(MSG.REQUEST_IDENTITIES));
    expect(reader.buffered).toBe(0);
  });

  it('refuses to write an answer over the cap', () => {
    expect(() => frame(MSG.SUCCESS, new Uint8Array(MAX_FRAME))).toThrow(KmsError);
  });
});

describe('requests', () => {
  it('SIGN_REQUEST: key blob, data, flags, nothing after', () => {
    const f = signRequest({ keyBlob: Uint8Array.of(9), data: Buffer.from('abc'), flags: 4 }).subarray(4);
    const parsed = parseRequest(f);
    expect(parsed).toMatchObject({ type: MSG.SIGN_REQUEST, sign: { flags: 4 } });
    malformed(() => parseRequest(Buffer.concat([f, Uint8Array.of(0)])));
    malformed(() => parseRequest(f.subarray(0, f.length - 1)));
  });

  it('REQUEST_IDENTITIES has no contents; LOCK/UNLOCK carry one string', () => {
    expect(parseRequest(Uint8Array.of(MSG.REQUEST_IDENTITIES))).toEqual({ type: MSG.REQUEST_IDENTITIES });
    malformed(() => parseRequest(Uint8Array.of(MSG.REQUEST_IDENTITIES, 0)));
    const unlock = parseRequest(frame(MSG.UNLOCK, new SshWriter().string('pw').bytes()).subarray(4));
    expect(unlock).toMatchObject({ type: MSG.UNLOCK });
    expect(Buffer.from((unlock as { password: Uint8Array }).password).toString()).toBe('pw');
  });

  it('other types are passed on unread', () => {
    expect(parseRequest(Uint8Array.of(MSG.ADD_IDENTITY, 1, 2, 3))).toEqual({ type: MSG.ADD_IDENTITY, other: true });
  });

  it('EXTENSION: a UTF-8 name and its contents; the DeskKMS layout is one string of JSON', () => {
    const f = extensionRequest('deskkms-v1@deskkms.invalid', '{"Op":"Hello"}').subarray(4);
    const parsed = parseRequest(f) as { extension: { name: string; contents: Uint8Array } };
    expect(parsed.extension.name).toBe('deskkms-v1@deskkms.invalid');
    expect(parseJsonExtension(parsed.extension.contents, 'x')).toBe('{"Op":"Hello"}');
    malformed(() => parseJsonExtension(Buffer.concat([parsed.extension.contents, Uint8Array.of(0)]), 'x'));
    malformed(() => parseRequest(frame(MSG.EXTENSION, new SshWriter().string(Uint8Array.of(0xff, 0xfe)).bytes()).subarray(4)));
  });

  it('session-bind@openssh.com: host key, session id, signature, a boolean, nothing after', () => {
    const contents = (forwarding: number, extra: Uint8Array = new Uint8Array(0)): Uint8Array =>
      new SshWriter().string(Uint8Array.of(1)).string(Uint8Array.of(2, 2)).string(Uint8Array.of(3)).raw(Uint8Array.of(forwarding)).raw(extra).bytes();
    expect(parseSessionBind(contents(1))).toMatchObject({ forwarding: true, sessionId: Uint8Array.of(2, 2) });
    expect(parseSessionBind(contents(0)).forwarding).toBe(false);
    malformed(() => parseSessionBind(contents(2)));
    malformed(() => parseSessionBind(contents(0, Uint8Array.of(0))));
    malformed(() => parseSessionBind(new SshWriter().string(new Uint8Array(0)).string(Uint8Array.of(2)).string(Uint8Array.of(3)).raw(Uint8Array.of(0)).bytes()));
    expect(SESSION_BIND_EXTENSION).toBe('session-bind@openssh.com');
  });

  it('session-bind fields are copies: wiping the frame leaves them whole (review F3)', () => {
    const contents = new SshWriter().string(Uint8Array.of(1)).string(Uint8Array.of(2, 2)).string(Uint8Array.of(3)).raw(Uint8Array.of(0)).bytes();
    const bind = parseSessionBind(contents);
    contents.fill(0);
    expect(bind).toMatchObject({ hostKey: Uint8Array.of(1), sessionId: Uint8Array.of(2, 2), signature: Uint8Array.of(3) });
  });
});

describe('answers', () => {
  it('IDENTITIES_ANSWER and SIGN_RESPONSE read back', () => {
    const ids = [
      { keyBlob: Uint8Array.of(1, 2, 3), comment: 'deskkms:a:b' },
      { keyBlob: Uint8Array.of(4), comment: 'c' },
    ];
    expect(parseIdentitiesAnswer(identitiesAnswer(ids).subarray(4))).toEqual(ids);
    expect(parseIdentitiesAnswer(identitiesAnswer([]).subarray(4))).toEqual([]);
    const response = parseSignResponse(signResponse('rsa-sha2-256', Uint8Array.of(7, 7)).subarray(4));
    expect(response).toEqual({ algorithm: 'rsa-sha2-256', blob: Uint8Array.of(7, 7) });
    malformed(() => parseSignResponse(frame(MSG.FAILURE).subarray(4)));
  });

  it('frames carry their length', () => {
    expect(Array.from(frame(MSG.FAILURE))).toEqual([0, 0, 0, 1, MSG.FAILURE]);
    expect(Array.from(frame(MSG.SUCCESS, Uint8Array.of(9)))).toEqual([0, 0, 0, 2, MSG.SUCCESS, 9]);
  });
});

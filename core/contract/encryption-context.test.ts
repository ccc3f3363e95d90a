// The EncryptionContext parameter and its canonical text (RFC 8785 for a flat map of strings): the
// bytes a symmetric ciphertext authenticates, so two spellings of one context must give one text,
// and any other context another.
import { describe, expect, it } from 'vitest';
import { canonicalContext, encryptionContextParam, foldContextParameters } from './encryption-context.ts';

const parse = (v: unknown) => encryptionContextParam.safeParse(v);

describe('EncryptionContext', () => {
  it('takes JSON text (the SDK form) and an object (JSON bodies) alike', () => {
    expect(parse('{"b":"2","a":"1"}')).toMatchObject({ success: true, data: { a: '1', b: '2' } });
    expect(parse({ a: '1' })).toMatchObject({ success: true, data: { a: '1' } });
    expect(parse('')).toMatchObject({ success: true, data: {} });
  });

  it.each([
    ['not JSON', '{a:1}', /not valid JSON/],
    ['an array', '["a"]', /JSON object of string values/],
    ['a number value', '{"a":1}', /JSON object of string values/],
    ['a nested object', '{"a":{"b":"c"}}', /JSON object of string values/],
    ['JSON null', 'null', /JSON object of string values/],
    ['too long', JSON.stringify({ a: 'x'.repeat(8200) }), /longer than 8192/],
  ])('refuses %s', (_what, value, message) => {
    const result = parse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });

  it('writes one canonical text: members sorted by UTF-16 code units, JSON string escapes, no spaces', () => {
    expect(canonicalContext(undefined)).toBe('{}');
    expect(canonicalContext({})).toBe('{}');
    expect(canonicalContext({ b: '2', a: '1' })).toBe('{"a":"1","b":"2"}');
    // Code units, not code points or locale: U+FF5E sorts after U+1F600's lead surrogate (D83D).
    expect(canonicalContext({ '\uff5e': 'x', '\u{1f600}': 'y', Z: 'u', a: 'l' })).toBe('{"Z":"u","a":"l","\u{1f600}":"y","\uff5e":"x"}');
    expect(canonicalContext({ q: 'say "hi"\n\\' })).toBe('{"q":"say \\"hi\\"\\n\\\\"}');
  });

  it('gives different contexts different texts (no ambiguity between keys and values)', () => {
    const contexts: Record<string, string>[] = [{ a: 'b' }, { a: 'b', c: '' }, { 'a":"b': '' }, { a: 'b,c' }, { 'a,': 'b' }];
    const texts = contexts.map((c) => canonicalContext(c));
    expect(new Set(texts).size).toBe(texts.length);
  });
});

describe('foldContextParameters (the 1.x RPC clients send a map one field per member)', () => {
  it('folds EncryptionContext.k=v fields into the JSON text the schema takes, for each context parameter', () => {
    const folded = foldContextParameters({ KeyId: 'k', 'EncryptionContext.purpose': 'sdk', 'EncryptionContext.a.b': 'dotted key', 'SourceEncryptionContext.v': '1' });
    expect(folded).toEqual({ KeyId: 'k', EncryptionContext: '{"purpose":"sdk","a.b":"dotted key"}', SourceEncryptionContext: '{"v":"1"}' });
    expect(encryptionContextParam.parse(folded.EncryptionContext)).toEqual({ purpose: 'sdk', 'a.b': 'dotted key' });
  });

  it('leaves other dotted parameters, and both forms of one parameter, as sent (the schema then refuses the dotted ones)', () => {
    expect(foldContextParameters({ 'Tags.1.Key': 'x' })).toEqual({ 'Tags.1.Key': 'x' });
    expect(foldContextParameters({ EncryptionContext: '{}', 'EncryptionContext.a': '1' })).toEqual({ EncryptionContext: '{}', 'EncryptionContext.a': '1' });
  });
});

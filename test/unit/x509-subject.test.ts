// The CSR wizard's Subject text against the vault's own parser: whatever a person types into the
// subject fields (commas, plus signs, quotes, backslashes, a leading #) must reach the CSR as
// exactly that value, in the order "CN=...,O=...,C=..." the vault reads.
import { describe, expect, it } from 'vitest';
import { formatName, parseSubject } from '../../core/x509/name.ts';
import { composeSubject, escapeDnValue, pathLenParam, pathLenProblem, sanStrings, subjectProblem, validityProblem } from '../../renderer/src/components/x509/subject.ts';

describe('composeSubject', () => {
  it('writes the most specific attribute first and skips empty fields', () => {
    expect(composeSubject({ C: 'CN', O: 'Example', CN: 'release.example.com', OU: '  ' })).toBe('CN=release.example.com,O=Example,C=CN');
  });

  it.each([
    ['Example, Inc.'],
    ['a+b=c;d<e>"f"\\g'],
    ['#not hex'],
    ['trailing\\'],
    ['Müller & Söhne'],
  ])('%s survives the vault parser unchanged', (value) => {
    const subject = composeSubject({ CN: value, O: 'Org' });
    const name = parseSubject(subject);
    // RDNs are encoded least specific first: O then CN.
    expect(name.map((rdn) => rdn[0]!.value.toString())).toEqual(['Org', value]);
    expect(formatName(name)).toBe(subject);
  });

  it('escapes a leading space and a trailing space', () => {
    expect(escapeDnValue(' x ')).toBe('\\ x\\ ');
    expect(parseSubject(`CN=${escapeDnValue(' x ')}`)[0]![0]!.value.toString()).toBe(' x ');
  });

  // Values at the edges of RFC 4514 escaping, each through escape -> vault parser -> certificate
  // formatter -> vault parser. (Before one escaping in core/contract/dn.ts, the renderer lost a
  // trailing space of a short value and the certificate formatter turned " " into "\\".)
  const EDGE_VALUES = [' ', '  ', ' x', 'x ', 'a ', ' a b ', '#', '#x', 'a#b', '+', ',', '"', '\\', '<', '>', ';', '=', 'a\\ ', '\\ ', ' #', 'Ünïcødé 中文 🔑', 'x\u00a0y'];
  it.each(EDGE_VALUES.map((v) => [JSON.stringify(v), v]))('%s round-trips through escaping, the parser and the certificate formatter', (_label, value) => {
    const text = `CN=${escapeDnValue(value)}`;
    const name = parseSubject(text);
    expect(name[0]![0]!.value.toString()).toBe(value);
    expect(formatName(name)).toBe(text);
    expect(parseSubject(formatName(name))[0]![0]!.value.toString()).toBe(value);
  });

  it('escapes each special once: one space is "\\ ", never "\\\\ "', () => {
    expect(escapeDnValue(' ')).toBe('\\ ');
    expect(escapeDnValue('a ')).toBe('a\\ ');
    expect(escapeDnValue('#a#')).toBe('\\#a#');
  });

  it('flags what the vault would refuse', () => {
    expect(subjectProblem({})).toMatch(/at least one/);
    expect(subjectProblem({ CN: 'x', C: 'China' })).toMatch(/two-letter/);
    expect(subjectProblem({ CN: 'x', emailAddress: 'nobody' })).toMatch(/Email/);
    expect(subjectProblem({ CN: 'x', C: 'cn' })).toBe('');
  });

  it('turns SAN rows into TYPE:value strings, dropping empty rows', () => {
    expect(sanStrings([{ id: 1, type: 'DNS', value: ' a.example ' }, { id: 2, type: 'IP', value: '' }, { id: 3, type: 'URI', value: 'https://x/' }])).toEqual(['DNS:a.example', 'URI:https://x/']);
  });
});

describe('validity and path length (CSR wizard and CA dialogs)', () => {
  it('takes 1 to 36500 days and nothing else', () => {
    expect(validityProblem('1')).toBe('');
    expect(validityProblem(' 36500 ')).toBe('');
    for (const bad of ['0', '36501', '', '1.5', '-3', 'ten']) expect(validityProblem(bad)).toBe('Validity must be 1 to 36500 days.');
  });

  it('takes an empty path length (no limit) or 0 to 100, as the vault does', () => {
    for (const good of ['', '  ', '0', '100']) expect(pathLenProblem(good)).toBe('');
    for (const bad of ['101', '999', '-1', '2.5', 'x']) expect(pathLenProblem(bad)).toBe('Path length must be 0 to 100, or empty for no limit.');
    expect(pathLenParam(' 3 ')).toEqual({ PathLen: 3 });
    expect(pathLenParam(' ')).toEqual({});
  });
});

// The CSR wizard's Subject text against the vault's own parser: whatever a person types into the
// subject fields (commas, plus signs, quotes, backslashes, a leading #) must reach the CSR as
// exactly that value, in the order "CN=...,O=...,C=..." the vault reads.
import { describe, expect, it } from 'vitest';
import { formatName } from '../../core/x509/certificate.ts';
import { parseSubject } from '../../core/x509/csr.ts';
import { composeSubject, escapeDnValue, sanStrings, subjectProblem } from '../../renderer/src/components/x509/subject.ts';

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

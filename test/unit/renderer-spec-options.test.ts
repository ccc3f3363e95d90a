import { describe, expect, it } from 'vitest';
import { algorithmOptions, specOptions } from '../../renderer/src/spec-options.ts';

describe('renderer spec options', () => {
  it('offers only what the contract allows', () => {
    const p256 = specOptions().find((o) => o.spec === 'EC_P256');
    expect(p256).toEqual({ spec: 'EC_P256', usages: ['SIGN/VERIFY'], defaultUsage: 'SIGN/VERIFY' });
    expect(algorithmOptions('EC_P256', 'ENCRYPT/DECRYPT')).toEqual([]);
    expect(algorithmOptions('RSA_2048', 'ENCRYPT/DECRYPT').map((o) => [o.algorithm, o.maxPlaintextBytes])).toEqual([
      ['RSAES_OAEP_SHA_256', 190],
      ['RSAES_OAEP_SHA_1', 214],
    ]);
    const sm2 = algorithmOptions('EC_SM2', 'SIGN/VERIFY');
    expect(sm2.map((o) => o.algorithm)).toEqual(['SM2DSA']);
    expect(sm2[0]?.label).toContain('1234567812345678');
    expect(sm2[0]?.maxPlaintextBytes).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import {
  ALGORITHM_TABLE,
  ENCRYPTION_ALGORITHMS,
  KEY_SPECS,
  KEY_SPEC_TABLE,
  SIGNING_ALGORITHMS,
  isAlgorithm,
  isKeySpec,
  maxPlaintextBytes,
  specsFor,
  usagesOf,
} from '../../core/contract/specs.ts';

describe('specs table (DESIGN.md section 3)', () => {
  it('lists exactly the contract\'s specs and algorithms', () => {
    expect([...KEY_SPECS]).toEqual(['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P256K', 'EC_SM2', 'Aliyun_AES_256', 'Aliyun_SM4']);
    expect(specsFor('RSA_PSS_SHA_256')).toEqual(['RSA_2048', 'RSA_3072', 'RSA_4096']);
    expect(specsFor('RSA_PKCS1_SHA_256')).toEqual(['RSA_2048', 'RSA_3072', 'RSA_4096']);
    expect(specsFor('RSAES_OAEP_SHA_256')).toEqual(['RSA_2048', 'RSA_3072', 'RSA_4096']);
    expect(specsFor('RSAES_OAEP_SHA_1')).toEqual(['RSA_2048', 'RSA_3072', 'RSA_4096']);
    expect(specsFor('ECDSA_SHA_256')).toEqual(['EC_P256', 'EC_P256K']);
    expect(specsFor('SM2DSA')).toEqual(['EC_SM2']);
    expect(specsFor('SM2PKE')).toEqual(['EC_SM2']);
  });

  it('gives EC_P256 and EC_P256K no ENCRYPT/DECRYPT usage', () => {
    expect(usagesOf('EC_P256')).toEqual(['SIGN/VERIFY']);
    expect(usagesOf('EC_P256K')).toEqual(['SIGN/VERIFY']);
    expect(usagesOf('EC_SM2')).toEqual(['SIGN/VERIFY', 'ENCRYPT/DECRYPT']);
    expect(usagesOf('RSA_3072')).toEqual(['SIGN/VERIFY', 'ENCRYPT/DECRYPT']);
    expect(usagesOf('Aliyun_AES_256')).toEqual(['ENCRYPT/DECRYPT']);
    expect(usagesOf('Aliyun_SM4')).toEqual(['ENCRYPT/DECRYPT']);
  });

  it('files every algorithm under the usage it belongs to, and each default usage is a supported one', () => {
    for (const spec of KEY_SPECS) {
      const info = KEY_SPEC_TABLE[spec];
      expect(usagesOf(spec)).toContain(info.defaultUsage);
      for (const alg of info.algorithms['SIGN/VERIFY']) expect(SIGNING_ALGORITHMS).toContain(alg);
      for (const alg of info.algorithms['ENCRYPT/DECRYPT']) expect(ENCRYPTION_ALGORITHMS).toContain(alg);
    }
    for (const alg of [...SIGNING_ALGORITHMS, ...ENCRYPTION_ALGORITHMS]) {
      expect(ALGORITHM_TABLE[alg].name).toBe(alg);
      expect(specsFor(alg).length).toBeGreaterThan(0);
    }
  });

  it('derives the plaintext limits DESIGN.md states', () => {
    const expected: Record<string, [number, number]> = { RSA_2048: [190, 214], RSA_3072: [318, 342], RSA_4096: [446, 470] };
    for (const [spec, [sha256, sha1]] of Object.entries(expected)) {
      if (!isKeySpec(spec)) throw new Error(spec);
      expect(maxPlaintextBytes(spec, 'RSAES_OAEP_SHA_256')).toBe(sha256);
      expect(maxPlaintextBytes(spec, 'RSAES_OAEP_SHA_1')).toBe(sha1);
    }
    expect(maxPlaintextBytes('EC_SM2', 'SM2PKE')).toBe(6047);
  });

  it('recognises names exactly', () => {
    expect(isKeySpec('RSA_2048')).toBe(true);
    expect(isKeySpec('rsa_2048')).toBe(false);
    expect(isKeySpec('toString')).toBe(false);
    expect(isAlgorithm('SM2DSA')).toBe(true);
    expect(isAlgorithm('constructor')).toBe(false);
    expect(isAlgorithm(undefined)).toBe(false);
  });
});

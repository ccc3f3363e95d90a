import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEY_SPEC_TABLE } from '../contract/specs.ts';
import { dispatch } from './dispatch.ts';
import { openssl } from '../../test/interop/openssl-peer.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('asymmetric-decrypt');

describe('AsymmetricDecrypt', () => {
  it('decrypts what AsymmetricEncrypt made, in the key worker', async () => {
    for (const [spec, alg] of [
      ['RSA_2048', 'RSAES_OAEP_SHA_256'],
      ['EC_SM2', 'SM2PKE'],
    ] as const) {
      const key = await v.makeKey(spec, 'ENCRYPT/DECRYPT');
      const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: alg };
      const encrypted = await v.call('AsymmetricEncrypt', { ...ref, Plaintext: b64('data key') });
      const decrypted = await v.call('AsymmetricDecrypt', { ...ref, CiphertextBlob: encrypted.CiphertextBlob });
      expect(decrypted).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId, Plaintext: b64('data key') });
      expect(v.auditOf(decrypted.RequestId)).toMatchObject({ keyId: key.keyId, keyVersionId: key.versionId });
    }
  });

  it('refuses disabled keys, and SIGN/VERIFY keys', async () => {
    const key = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'RSAES_OAEP_SHA_256' };
    const blob = (await v.call('AsymmetricEncrypt', { ...ref, Plaintext: b64('x') })).CiphertextBlob;
    await v.call('DisableKey', { KeyId: key.keyId });
    await v.refused('AsymmetricDecrypt', { ...ref, CiphertextBlob: blob }, 'Rejected.Disabled');
    const signing = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    const refused = await v.refused('AsymmetricDecrypt', { KeyId: signing.keyId, KeyVersionId: signing.versionId, Algorithm: 'SM2PKE', CiphertextBlob: blob }, 'InvalidParameter');
    expect(refused.Message).toMatch(/SM2PKE is not valid for EC_SM2 keys with usage SIGN\/VERIFY/);
  });
});

// Review 16 finding 2: a DryRun makes every check the real call makes without the private key
// (engine.ts assertDecryptable, which the key worker's decrypt calls too), so for a ciphertext of the
// wrong shape both answer the same Code and Message. The good blobs come from OpenSSL (a real peer).
describe('AsymmetricDecrypt DryRun agrees with the real call', () => {
  const ALGORITHM = { RSA_2048: 'RSAES_OAEP_SHA_256', RSA_3072: 'RSAES_OAEP_SHA_256', RSA_4096: 'RSAES_OAEP_SHA_256', EC_SM2: 'SM2PKE' } as const;

  /** DER TLV with a definite length (short or long form). */
  const tlv = (tag: number, content: Uint8Array): Buffer => {
    const n = content.length;
    const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...length]), content]);
  };
  const int = (value: bigint): Buffer => {
    let hex = value.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = '00' + hex;
    return tlv(0x02, Buffer.from(hex, 'hex'));
  };
  /** GM/T 0009 SM2 ciphertext SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING, C2 OCTET STRING }. */
  const sm2Der = (x: bigint, y: bigint, c3: Uint8Array, c2: Uint8Array): Buffer => tlv(0x30, Buffer.concat([int(x), int(y), tlv(0x04, c3), tlv(0x04, c2)]));
  // The SM2 base point G and the field prime p (GB/T 32918.5): public constants, a point on the curve and a bound.
  const Gx = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
  const Gy = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;
  const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;

  async function outcome(params: Record<string, unknown>): Promise<{ Code: string; Message: string } | { Plaintext: unknown }> {
    const out = await dispatch(v.vault, 'AsymmetricDecrypt', params, 'test');
    return out.ok ? { Plaintext: out.body.Plaintext } : { Code: out.error.Code, Message: out.error.Message };
  }

  it.each(Object.keys(ALGORITHM) as (keyof typeof ALGORITHM)[])('%s', async (spec) => {
    const key = await v.makeKey(spec, 'ENCRYPT/DECRYPT');
    const ref = { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: ALGORITHM[spec] };
    const pemFile = v.file(`${spec}.pem`);
    writeFileSync(pemFile, key.pem);
    const oaep = spec === 'EC_SM2' ? [] : ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'];
    const good = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pemFile, ...oaep], { input: Buffer.from('data key') });

    const k = spec === 'EC_SM2' ? 0 : KEY_SPEC_TABLE[spec].bits / 8;
    const bad: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      short: Buffer.from('0123456789'),
      'not DER': Buffer.from('this is not a DER SEQUENCE at all'),
      long: Buffer.concat([good, Buffer.from([0])]),
      truncated: good.subarray(0, good.length - 1),
      ...(spec === 'EC_SM2'
        ? {
            'C1 off the curve': sm2Der(1n, 1n, new Uint8Array(32), Buffer.from('x')),
            'C1 beyond the field': sm2Der(P, Gy, new Uint8Array(32), Buffer.from('x')),
            'C3 of 31 bytes': sm2Der(Gx, Gy, new Uint8Array(31), Buffer.from('x')),
            'C2 empty': sm2Der(Gx, Gy, new Uint8Array(32), new Uint8Array(0)),
          }
        : {}),
    };
    for (const [name, blob] of Object.entries(bad)) {
      const real = await outcome({ ...ref, CiphertextBlob: b64(blob) });
      const dry = await outcome({ ...ref, CiphertextBlob: b64(blob), DryRun: 'true' });
      expect(real, name).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^CiphertextBlob/) });
      expect(dry, name).toEqual(real);
    }

    // The right shape: DryRun passes, the real call decrypts.
    expect(await outcome({ ...ref, CiphertextBlob: b64(good), DryRun: 'true' })).toMatchObject({ Code: 'DryRunOperationError' });
    expect(await outcome({ ...ref, CiphertextBlob: b64(good) })).toEqual({ Plaintext: b64('data key') });

    // The one difference left: a blob of the right shape that does not decrypt is known only by
    // decrypting (RSA: k bytes of zeros; SM2: OpenSSL's blob with its last C2 byte flipped).
    const wrong = Buffer.from(spec === 'EC_SM2' ? good : new Uint8Array(k));
    if (spec === 'EC_SM2') wrong[wrong.length - 1]! ^= 1;
    expect(await outcome({ ...ref, CiphertextBlob: b64(wrong), DryRun: 'true' })).toMatchObject({ Code: 'DryRunOperationError' });
    expect(await outcome({ ...ref, CiphertextBlob: b64(wrong) })).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^CiphertextBlob: cannot be decrypted/) });
  });
});

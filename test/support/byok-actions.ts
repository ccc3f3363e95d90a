// The bring-your-own-key steps through an action vault (test/support/action-vault.ts), shared by
// the tests beside GetParametersForImport, ImportKeyMaterial and DeleteKeyMaterial: an EXTERNAL key,
// its wrapping parameters, OpenSSL's key wrapped under them, and a signature OpenSSL verifies.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { KEY_SPEC_TABLE, type KeySpec, type SigningAlgorithm } from '../../core/contract/specs.ts';
import { openssl, pkeyutlVerifyArgs } from '../interop/openssl-peer.ts';
import type { ActionVault } from './action-vault.ts';
import { b64 } from './action-vault.ts';
import { opensslKey as peerKey, wrapWithOpenssl as wrapMaterial, type PeerKey } from './byok-wrap.ts';

export { targetMaterial } from './byok-wrap.ts';

export const ALGORITHM_FOR: Record<'RSA_2048' | 'EC_SM2', string> = {
  RSA_2048: 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD',
  EC_SM2: 'SM2PKE_SM4_ECB',
};

export function byok(v: ActionVault) {
  return {
    /** OpenSSL's key of `spec`; scratch files in the vault's temp directory. */
    opensslKey: (spec: KeySpec): PeerKey => peerKey(spec, (name) => v.file(name)),
    wrapWithOpenssl: (wrappingPublicKeyB64: string, algorithm: string, target: Uint8Array): Buffer => wrapMaterial(wrappingPublicKeyB64, algorithm, target, (name) => v.file(name)),

    externalKey: async (spec: KeySpec): Promise<string> => {
      const made = await v.call('CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY', Origin: 'EXTERNAL' });
      expect(made.KeyMetadata).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport' });
      return made.KeyMetadata.KeyId as string;
    },

    parameters: (keyId: string, wrappingKeySpec: 'RSA_2048' | 'EC_SM2') =>
      v.call('GetParametersForImport', { KeyId: keyId, WrappingKeySpec: wrappingKeySpec, WrappingAlgorithm: ALGORITHM_FOR[wrappingKeySpec] }),

    /** The vault signs a digest; OpenSSL verifies it with the public key of the key it made. */
    signedAndVerified: async (keyId: string, keyVersionId: string, spec: KeySpec, publicPem: string): Promise<void> => {
      const algorithm = (KEY_SPEC_TABLE[spec].family === 'RSA' ? 'RSA_PSS_SHA_256' : KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'][0]!) as SigningAlgorithm;
      const digest = randomBytes(32);
      const signed = await v.call('AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: algorithm, Digest: b64(digest) });
      const pub = v.file('pub.pem');
      writeFileSync(pub, publicPem);
      const digestFile = v.file('digest.bin');
      writeFileSync(digestFile, digest);
      const sig = v.file('sig.bin');
      writeFileSync(sig, Buffer.from(signed.Value as string, 'base64'));
      expect(openssl(pkeyutlVerifyArgs(algorithm, pub, digestFile, sig)).toString('utf8')).toContain('Signature Verified Successfully');
    },

    versionCount: async (keyId: string): Promise<number> => (await v.call('ListKeyVersions', { KeyId: keyId })).TotalCount as number,
  };
}

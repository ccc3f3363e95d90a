// What the X.509 commands (csr, cert) share: a vault key version as a signer. Signatures come
// from AsymmetricSign through the handler table, so the private key stays in the key worker and
// key state, usage and audit apply.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { invalidParameter } from '../contract/errors.ts';
import { KEY_SPEC_TABLE, isKeySpec, type KeySpec, type SigningAlgorithm } from '../contract/specs.ts';
import { importPublicKey } from '../crypto/engine.ts';
import type { Vault } from '../vault/vault.ts';
import { callAction } from './actions-cli.ts';
import type { CliIO, FlagValues } from './command.ts';

export interface SigningKey {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly spec: KeySpec;
  readonly spki: Uint8Array;
  readonly algorithm: SigningAlgorithm;
}

/** The key version named on the command line; the algorithm defaults to sha256WithRSAEncryption for RSA, else the spec's. */
export async function signingKey(vault: Vault, keyRef: string, version: string, algorithm: unknown): Promise<SigningKey> {
  const meta = (await callAction(vault, 'DescribeKey', { KeyId: keyRef })).KeyMetadata as { KeyId: string; KeySpec: string };
  if (!isKeySpec(meta.KeySpec)) throw invalidParameter('KEY', `has an unknown spec ${meta.KeySpec}`);
  const spec = meta.KeySpec;
  const chosen = typeof algorithm === 'string' ? algorithm : KEY_SPEC_TABLE[spec].family === 'RSA' ? 'RSA_PKCS1_SHA_256' : KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'][0];
  const pem = (await callAction(vault, 'GetPublicKey', { KeyId: meta.KeyId, KeyVersionId: version })).PublicKey as string;
  return { keyId: meta.KeyId, keyVersionId: version, spec, spki: importPublicKey(pem).spki, algorithm: chosen as SigningAlgorithm };
}

/** A Digest signer for the X.509 builders, backed by AsymmetricSign. */
export function vaultSigner(vault: Vault, key: SigningKey): (digest: Uint8Array) => Promise<Uint8Array> {
  return async (digest) => {
    const signed = await callAction(vault, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm: key.algorithm, Digest: encodeBase64(digest) });
    return decodeBase64(signed.Value, 'Value');
  };
}

/** Public output (PEM certificates, requests): to --out FILE (mode 0644) or stdout. */
export async function writePublicOutput(flags: FlagValues, io: CliIO, text: string): Promise<void> {
  if (typeof flags.out === 'string') await writeFile(resolve(io.cwd, flags.out), text, { mode: 0o644 });
  else io.stdout.write(text);
}

// ExportDataKey and GenerateAndExportDataKey wrap a data key to a public key the caller gives
// (PublicKeyBlob, base64 DER SubjectPublicKeyInfo): RSAES-OAEP (SHA-256 or SHA-1) to an RSA key, or
// SM2PKE to an SM2 key, so only the holder of its private key reads the data key.
import type { ActionRequest } from '../contract/actions.ts';
import { decodeBase64 } from '../contract/base64.ts';
import { invalidParameter } from '../contract/errors.ts';
import { specsFor } from '../contract/specs.ts';
import { encrypt, importPublicKey, type PublicKey } from '../crypto/engine.ts';

type Wrapping = Pick<ActionRequest<'ExportDataKey'>, 'PublicKeyBlob' | 'WrappingKeySpec' | 'WrappingAlgorithm'>;

/** The public key to wrap to, checked against WrappingKeySpec and WrappingAlgorithm before any key is used. */
export function wrappingPublicKey(req: Wrapping): PublicKey {
  const key = importPublicKey(decodeBase64(req.PublicKeyBlob, 'PublicKeyBlob'), 'PublicKeyBlob');
  if (key.spec !== req.WrappingKeySpec) throw invalidParameter('PublicKeyBlob', `is a ${key.spec} public key, but WrappingKeySpec is ${req.WrappingKeySpec}`);
  if (!specsFor(req.WrappingAlgorithm).includes(key.spec)) {
    throw invalidParameter('WrappingAlgorithm', `${req.WrappingAlgorithm} does not encrypt to a ${key.spec} key (${specsFor(req.WrappingAlgorithm).join(', ')} only)`);
  }
  return key;
}

export function exportDataKeyTo(key: PublicKey, req: Wrapping, dataKey: Uint8Array): Uint8Array {
  return encrypt(key, req.WrappingAlgorithm, dataKey);
}

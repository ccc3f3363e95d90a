// Symmetric key versions in the key worker (Aliyun_AES_256, Aliyun_SM4): their sealed material is
// the raw key, of the spec's length; private keys' is PKCS#8. One check of "this opened material is
// a whole key of its spec" for both, used when a version is opened and when a backup is verified.
import { KmsError } from '../contract/errors.ts';
import { KEY_SPEC_TABLE, type KeySpec } from '../contract/specs.ts';
import { importPrivateKey } from '../crypto/engine.ts';

/** Throws InvalidParameter (as importPrivateKey does) when `material` is not a whole key of `spec`. */
export function checkKeyMaterial(material: Uint8Array, spec: KeySpec): void {
  const symmetric = KEY_SPEC_TABLE[spec].symmetric;
  if (symmetric) {
    if (material.length !== symmetric.keyBytes) throw new KmsError('InvalidParameter', `a ${spec} key is ${symmetric.keyBytes} bytes, not ${material.length}`);
    return;
  }
  importPrivateKey(material, spec).wipe();
}

// What the key worker does. This is the only code that reads the vault data key and decrypted
// private keys: it keeps unlocked key versions as live key objects and wipes them on lock. Its
// results are public material only (signatures, public keys, sealed blobs, plaintexts of
// AsymmetricDecrypt); never a private key, never the data key.
import { randomBytes } from 'node:crypto';
import { hmac } from '../crypto/hmac.ts';
import { KmsError, toKmsError } from '../contract/errors.ts';
import { decrypt, generateKey, importPrivateKey, type PrivateKey } from '../crypto/engine.ts';
import { deleteDataKey, loadDataKey, storeDataKey } from '../keychain/data-key.ts';
import { keychainBackendName } from '../keychain/keychain.ts';
import { discardEarlyKek, unwrapDataKey, wrapDataKey } from '../keychain/passphrase.ts';
import { randomBase62 } from '../crypto/random-text.ts';
import { decryptPkcs8, encryptPkcs8 } from '../x509/pkcs8-pbes2.ts';
import { deriveIntegrityKey, makeVerifier, seal, sealSecret, unseal, unsealSecret, verifierVersion } from './seal.ts';
import { parseWorkerRequest, wrappingSealContext, type Protection, type SealedKey, type WorkerRequest, type WorkerResponse, type WorkerResults } from './protocol.ts';
import { keyCheckValue, unwrapKeyMaterial, unwrapSymmetricMaterial } from './key-material.ts';
import { isSymmetricWrapping } from '../contract/key-import.ts';
import { checkCurrentPassphrase, checkSealedItems, openFromBackup, resealItems, sealForBackup } from './custody.ts';
import { KEY_SPEC_TABLE, type SymmetricCipher } from '../contract/specs.ts';
import { GCM_IV_BYTES, gcmDecrypt, gcmEncrypt } from '../crypto/symmetric.ts';
import { checkKeyMaterial } from './symmetric-key.ts';
import { SignBatcher } from './sign-batch.ts';

export class KeyWorkerCore {
  private dataKey: Uint8Array | undefined;
  /** A data key not (yet) the vault's, and what it is for: each custody op takes only its own kind. */
  private pending: { key: Uint8Array; purpose: 'backup' | 'rotation' } | undefined;
  private readonly cache = new Map<string, PrivateKey>();
  private readonly secrets = new Map<string, Uint8Array>();
  private readonly signer = new SignBatcher();

  /** Handles one raw message; never throws. */
  async handle(message: unknown): Promise<WorkerResponse> {
    const seq = typeof message === 'object' && message !== null && typeof (message as { seq?: unknown }).seq === 'number' ? (message as { seq: number }).seq : -1;
    try {
      const parsed = parseWorkerRequest(message);
      if (!parsed.success) throw new KmsError('InternalFailure', `malformed key worker request: ${parsed.message}`);
      return { seq, ok: true, value: await this.dispatch(parsed.data) };
    } catch (error) {
      const e = toKmsError(error);
      return { seq, ok: false, error: { name: 'KmsError', code: e.code, message: e.message } };
    }
  }

  private async dispatch(req: WorkerRequest): Promise<WorkerResults[keyof WorkerResults]> {
    // A key derived ahead (key-worker.ts) is for the unlock a command asks first: any other request wipes it.
    if (req.op !== 'unlock') discardEarlyKek();
    switch (req.op) {
      case 'init':
        return this.init(req.vaultId, req.protection);
      case 'unlock':
        return this.unlock(req.vaultId, req.protection, req.verifier);
      case 'lock':
        this.lock();
        return {};
      case 'generate': {
        const dataKey = this.requireDataKey();
        const symmetric = KEY_SPEC_TABLE[req.spec].symmetric;
        if (symmetric) {
          // A symmetric version: random key bytes, sealed; it has no public half.
          const raw = randomBytes(symmetric.keyBytes);
          const sealed = seal(dataKey, req, raw);
          this.secrets.set(req.keyVersionId, new Uint8Array(raw));
          raw.fill(0);
          return { publicKey: new Uint8Array(0), sealed };
        }
        const key = await generateKey(req.spec);
        const pkcs8 = key.exportPkcs8();
        try {
          const sealed = seal(dataKey, req, pkcs8);
          this.cache.set(req.keyVersionId, key);
          return { publicKey: key.publicKey.spki, sealed };
        } finally {
          pkcs8.fill(0);
        }
      }
      case 'sign': {
        const signature = await this.signer.sign({ key: this.open(req.key), algorithm: req.algorithm, digest: req.digest });
        return { signature: Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64') };
      }
      case 'decrypt':
        return { plaintext: decrypt(this.open(req.key), req.algorithm, req.ciphertext) };
      case 'symEncrypt': {
        const { key, cipher } = this.openSymmetric(req.key);
        const iv = randomBytes(GCM_IV_BYTES);
        return { iv, ...gcmEncrypt(cipher, key, iv, req.plaintext, req.aad) };
      }
      case 'symDecrypt': {
        const { key, cipher } = this.openSymmetric(req.key);
        return { plaintext: gcmDecrypt(cipher, key, req.iv, req.ciphertext, req.tag, req.aad) };
      }
      case 'forget':
        for (const id of req.keyVersionIds) {
          this.cache.get(id)?.wipe();
          this.cache.delete(id);
          this.secrets.get(id)?.fill(0);
          this.secrets.delete(id);
        }
        return {};
      case 'newAccessKey': {
        const secret = randomBase62(30);
        const bytes = Buffer.from(secret, 'utf8');
        return { secret, sealed: sealSecret(this.requireDataKey(), `access-key\0${req.accessKeyId}`, bytes) };
      }
      case 'exportEncrypted': {
        // A symmetric key never leaves the worker, not even encrypted (the handlers refuse first).
        if (KEY_SPEC_TABLE[req.key.spec].symmetric) throw new KmsError('UnsupportedOperation', `key ${req.key.keyId} is ${req.key.spec}, a symmetric key: it is never exported`);
        const pkcs8 = unseal(this.requireDataKey(), req.key, req.key.sealed);
        try {
          return { encrypted: await encryptPkcs8(pkcs8, req.passphrase, { kdf: req.kdf }) };
        } finally {
          pkcs8.fill(0);
          req.passphrase.fill(0);
        }
      }
      case 'importEncrypted': {
        const dataKey = this.requireDataKey();
        const pkcs8 = await decryptPkcs8(req.encrypted, req.passphrase, { spec: req.spec });
        req.passphrase.fill(0);
        try {
          const key = importPrivateKey(pkcs8, req.spec, 'EncryptedPrivateKey');
          const sealed = seal(dataKey, req, pkcs8);
          this.cache.set(req.keyVersionId, key);
          return { publicKey: key.publicKey.spki, sealed };
        } finally {
          pkcs8.fill(0);
        }
      }
      case 'newWrappingKey': {
        const dataKey = this.requireDataKey();
        const key = await generateKey(req.spec);
        const pkcs8 = key.exportPkcs8();
        try {
          return { publicKey: key.publicKey.spki, sealed: seal(dataKey, wrappingSealContext(req.keyId, req.tokenId, req.spec), pkcs8) };
        } finally {
          pkcs8.fill(0);
          key.wipe();
        }
      }
      case 'importMaterial': {
        const dataKey = this.requireDataKey();
        const { wrapping } = req;
        const wrappingPkcs8 = unseal(dataKey, wrappingSealContext(req.keyId, wrapping.tokenId, wrapping.spec), wrapping.sealed);
        let wrappingKey: PrivateKey;
        try {
          wrappingKey = importPrivateKey(wrappingPkcs8, wrapping.spec);
        } finally {
          wrappingPkcs8.fill(0);
        }
        try {
          if (KEY_SPEC_TABLE[req.spec].symmetric) {
            // Symmetric material is the raw key itself (checked for its length by the unwrap).
            const raw = unwrapSymmetricMaterial(wrappingKey, wrapping.algorithm, req.material, req.spec);
            try {
              // The key check value stands in for a public key: a re-import must bring the same key.
              return { publicKey: keyCheckValue(raw), sealed: seal(dataKey, req, raw) };
            } finally {
              raw.fill(0);
            }
          }
          if (isSymmetricWrapping(wrapping.algorithm)) throw new KmsError('IncorrectKeyMaterial', `EncryptedKeyMaterial: ${wrapping.algorithm} wraps symmetric key material, not ${req.spec}`);
          const { key, pkcs8 } = unwrapKeyMaterial(wrappingKey, wrapping.algorithm, req.material, req.spec);
          try {
            // Not cached: the caller may still refuse it (material differing from an earlier import).
            return { publicKey: key.publicKey.spki, sealed: seal(dataKey, req, pkcs8) };
          } finally {
            pkcs8.fill(0);
            key.wipe();
          }
        } finally {
          wrappingKey.wipe();
        }
      }
      case 'backupSeal':
        return sealForBackup(this.requireDataKey(), req.vaultId, req.backupId, req.recovery);
      case 'backupOpen': {
        // A backup is opened only by a worker of its own (verify, restore): never beside a vault's
        // key, whose secrets reseal or checkSealed could otherwise be pointed at a key of the caller's.
        if (this.dataKey) throw new KmsError('InternalFailure', 'a backup is opened in a key worker of its own, not in one that holds a vault');
        const { dataKey, payloadKey } = await openFromBackup(req.vaultId, req.backupId, req.recovery, req.kdf, req.wrapped);
        if (verifierVersion(dataKey, req.vaultId, req.verifier) === undefined) {
          dataKey.fill(0);
          payloadKey.fill(0);
          throw new KmsError('Backup.Damaged', "the backup's data key opens but does not match its vault's verifier");
        }
        this.setPending(dataKey, 'backup');
        return { payloadKey, integrityKey: deriveIntegrityKey(dataKey, req.vaultId) };
      }
      case 'checkSealed':
        return { checked: checkSealedItems(this.requirePending('backup'), req.items) };
      case 'adoptPending': {
        const dataKey = this.requirePending('backup');
        const stored = await this.protect(dataKey, req.protection, 'the vault was not restored');
        this.pending = undefined;
        this.setDataKey(dataKey);
        return { ...stored, integrityKey: deriveIntegrityKey(dataKey, req.vaultId) };
      }
      case 'reprotect': {
        const dataKey = this.requireDataKey();
        if (req.current) await checkCurrentPassphrase(dataKey, req.current.passphrase, req.current.wrapped);
        return this.protect(dataKey, req.protection, 'nothing was changed');
      }
      case 'rotateBegin': {
        const current = this.requireDataKey();
        if (req.current) await checkCurrentPassphrase(current, req.current.passphrase, req.current.wrapped);
        const next = new Uint8Array(randomBytes(32));
        const stored = await this.protect(next, req.protection, 'the data key was not rotated');
        this.setPending(next, 'rotation');
        return { verifier: makeVerifier(next, req.vaultId), integrityKey: deriveIntegrityKey(next, req.vaultId), ...stored };
      }
      case 'reseal':
        return { sealed: resealItems(this.requireDataKey(), this.requirePending('rotation'), req.items) };
      case 'rotateFinish': {
        const next = this.requirePending('rotation');
        this.pending = undefined;
        if (!req.commit) {
          next.fill(0);
          return {};
        }
        // Live keys and secrets stay valid: they are the same keys, sealed under another data key.
        this.dataKey?.fill(0);
        this.dataKey = next;
        return {};
      }
      case 'deleteKeychainEntry':
        return { deleted: await deleteDataKey(req.account) };
      case 'accessKeyMac': {
        // The secret stays in this worker. RPC signature V1 keys HMAC-SHA1 with secret + "&"; the
        // ACS3 (V3) schemes key HMAC-SHA256 / HMAC-SM3 with the secret itself (Alibaba Cloud's
        // "V3 request structure and signature", and @alicloud/openapi-util's signatureMethod).
        let secret = this.secrets.get(req.accessKeyId);
        if (!secret) {
          secret = unsealSecret(this.requireDataKey(), `access-key\0${req.accessKeyId}`, req.sealed);
          this.secrets.set(req.accessKeyId, secret);
        }
        const mac =
          req.algorithm === 'HMAC-SHA1'
            ? hmac('sha1', Buffer.concat([secret, Buffer.from('&')]), [req.data])
            : hmac(req.algorithm === 'ACS3-HMAC-SM3' ? 'sm3' : 'sha256', secret, [req.data]);
        return { mac: new Uint8Array(mac) };
      }
    }
  }

  private async init(vaultId: string, protection: Protection): Promise<WorkerResults['init']> {
    const dataKey = new Uint8Array(randomBytes(32));
    const stored = await this.protect(dataKey, protection, 'nothing was created');
    this.setDataKey(dataKey);
    return { verifier: makeVerifier(dataKey, vaultId), ...stored, integrityKey: deriveIntegrityKey(dataKey, vaultId) };
  }

  /**
   * Puts `dataKey` under `protection`: stored in the keychain entry and read back (a keychain that
   * accepts a secret but does not keep it fails here), or wrapped under the passphrase (wiped).
   */
  private async protect(dataKey: Uint8Array, protection: Protection, failure: string): Promise<{ wrapped?: unknown; backend: string }> {
    if (protection.kind === 'keychain') {
      await storeDataKey(protection.account, dataKey);
      const stored = await loadDataKey(protection.account);
      const kept = stored !== undefined && Buffer.compare(Buffer.from(stored), Buffer.from(dataKey)) === 0;
      stored?.fill(0);
      if (!kept) throw new KmsError('Vault.KeychainUnavailable', `${keychainBackendName()} did not keep the vault's data key; ${failure}`);
      return { backend: keychainBackendName() };
    }
    try {
      return { wrapped: await wrapDataKey(dataKey, protection.passphrase, protection.kdfN === undefined ? {} : { N: protection.kdfN }), backend: 'passphrase' };
    } finally {
      protection.passphrase.fill(0);
    }
  }

  private async unlock(vaultId: string, protection: Protection, verifier: string): Promise<WorkerResults['unlock']> {
    let dataKey: Uint8Array;
    if (protection.kind === 'keychain') {
      const loaded = await loadDataKey(protection.account);
      if (!loaded) {
        throw new KmsError(
          'Vault.KeychainUnavailable',
          `${keychainBackendName()} holds no data key for this vault (entry DeskKMS/${protection.account}); the vault stays locked`,
        );
      }
      dataKey = loaded;
    } else {
      try {
        dataKey = await unwrapDataKey(protection.wrapped, protection.passphrase);
      } finally {
        protection.passphrase.fill(0); // a wrong one too
      }
    }
    const version = verifierVersion(dataKey, vaultId, verifier);
    if (version === undefined) {
      dataKey.fill(0);
      // A passphrase that opened the wrapped key (AES-GCM checks it) is right: then the verifier is damaged.
      throw protection.kind === 'keychain'
        ? new KmsError(
            'Vault.Locked',
            `the data key in ${keychainBackendName()} (entry DeskKMS/${protection.account}) does not open this vault: the entry was overwritten or holds another vault's key; the vault stays locked`,
          )
        : new KmsError('Vault.Corrupt', "the vault header is damaged: the passphrase opened the wrapped data key, but the vault's verifier does not match it. To fix: restore vault.db from a backup");
    }
    this.setDataKey(dataKey);
    return {
      backend: protection.kind === 'keychain' ? keychainBackendName() : 'passphrase',
      integrityKey: deriveIntegrityKey(dataKey, vaultId),
      ...(version === 1 ? { upgradedVerifier: makeVerifier(dataKey, vaultId) } : {}),
    };
  }

  /** A data key not (yet) the vault's: a backup being opened, or the next key of a rotation. */
  private setPending(key: Uint8Array, purpose: 'backup' | 'rotation'): void {
    this.pending?.key.fill(0);
    this.pending = { key, purpose };
  }

  private requirePending(purpose: 'backup' | 'rotation'): Uint8Array {
    if (this.pending?.purpose !== purpose) {
      throw new KmsError('InternalFailure', purpose === 'backup' ? 'no backup is open in the key worker' : 'no data-key rotation is under way in the key worker');
    }
    return this.pending.key;
  }

  private setDataKey(dataKey: Uint8Array): void {
    this.lock();
    this.dataKey = dataKey;
  }

  private lock(): void {
    for (const key of this.cache.values()) key.wipe();
    this.cache.clear();
    for (const secret of this.secrets.values()) secret.fill(0);
    this.secrets.clear();
    this.dataKey?.fill(0);
    this.dataKey = undefined;
    this.pending?.key.fill(0);
    this.pending = undefined;
  }

  private requireDataKey(): Uint8Array {
    if (!this.dataKey) throw new KmsError('Vault.Locked', 'the vault is locked; unlock it first');
    return this.dataKey;
  }

  /** A symmetric version's raw key (cached like private keys, wiped on lock and forget) and its cipher. */
  private openSymmetric(ref: SealedKey): { key: Uint8Array; cipher: SymmetricCipher } {
    const symmetric = KEY_SPEC_TABLE[ref.spec].symmetric;
    if (!symmetric) throw new KmsError('InternalFailure', `${ref.spec} is not a symmetric key spec`);
    const cached = this.secrets.get(ref.keyVersionId);
    if (cached) return { key: cached, cipher: symmetric.cipher };
    const raw = unseal(this.requireDataKey(), ref, ref.sealed);
    try {
      checkKeyMaterial(raw, ref.spec);
    } catch {
      raw.fill(0);
      throw new KmsError('Vault.Corrupt', `key version ${ref.keyVersionId} of key ${ref.keyId} holds unreadable key material`);
    }
    this.secrets.set(ref.keyVersionId, raw);
    return { key: raw, cipher: symmetric.cipher };
  }

  private open(ref: SealedKey): PrivateKey {
    if (KEY_SPEC_TABLE[ref.spec].symmetric) throw new KmsError('UnsupportedOperation', `key ${ref.keyId} is ${ref.spec}, a symmetric key: it has no private key (use Encrypt and Decrypt)`);
    const cached = this.cache.get(ref.keyVersionId);
    if (cached) return cached;
    const pkcs8 = unseal(this.requireDataKey(), ref, ref.sealed);
    try {
      const key = importPrivateKey(pkcs8, ref.spec);
      this.cache.set(ref.keyVersionId, key);
      return key;
    } catch (error) {
      if (error instanceof KmsError && error.code === 'InvalidParameter') {
        throw new KmsError('Vault.Corrupt', `key version ${ref.keyVersionId} of key ${ref.keyId} holds unreadable key material`);
      }
      throw error;
    } finally {
      pkcs8.fill(0);
    }
  }
}


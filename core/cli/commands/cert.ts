// deskkms cert self-sign | issue | attach | export: an air-gapped station as an offline CA.
// Every signature comes from AsymmetricSign through the handler table (key worker, key state,
// audit); attaching a chain is audited too.
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { appendAuditEntries } from '../../audit/audit-log.ts';
import { decodeBase64, encodeBase64 } from '../../contract/base64.ts';
import { KmsError, invalidParameter, missingParameter } from '../../contract/errors.ts';
import { KEY_SPEC_TABLE, isKeySpec, type KeySpec, type SigningAlgorithm } from '../../contract/specs.ts';
import { importPublicKey } from '../../crypto/engine.ts';
import { decodePem } from '../../crypto/pem.ts';
import { kmsDate, type Vault } from '../../vault/vault.ts';
import { certificatePem, issueCertificate, parseCertificate, selfSignCertificate } from '../../x509/certificate.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { callAction } from '../actions-cli.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

interface SigningKey {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly spec: KeySpec;
  readonly spki: Uint8Array;
  readonly algorithm: SigningAlgorithm;
}

async function signingKey(vault: Vault, keyRef: string, version: string, algorithm: unknown): Promise<SigningKey> {
  const meta = (await callAction(vault, 'DescribeKey', { KeyId: keyRef })).KeyMetadata as { KeyId: string; KeySpec: string };
  if (!isKeySpec(meta.KeySpec)) throw invalidParameter('KEY', `has an unknown spec ${meta.KeySpec}`);
  const spec = meta.KeySpec;
  const chosen = typeof algorithm === 'string' ? algorithm : KEY_SPEC_TABLE[spec].family === 'RSA' ? 'RSA_PKCS1_SHA_256' : KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'][0];
  const pem = (await callAction(vault, 'GetPublicKey', { KeyId: meta.KeyId, KeyVersionId: version })).PublicKey as string;
  return { keyId: meta.KeyId, keyVersionId: version, spec, spki: importPublicKey(pem).spki, algorithm: chosen as SigningAlgorithm };
}

function signer(vault: Vault, key: SigningKey) {
  return async (digest: Uint8Array): Promise<Uint8Array> => {
    const signed = await callAction(vault, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm: key.algorithm, Digest: encodeBase64(digest) });
    return decodeBase64(signed.Value, 'Value');
  };
}

function validity(flags: FlagValues, now: Date): { notBefore: Date; notAfter: Date } {
  const days = typeof flags.days === 'string' ? Number(flags.days) : 365;
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw invalidParameter('--days', 'must be a whole number of days from 1 to 36500');
  return { notBefore: now, notAfter: new Date(now.getTime() + days * 86_400_000) };
}

/** PEM CERTIFICATE blocks of a chain file, each strictly parsed. */
function readChain(text: string): Uint8Array[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalidParameter('--in', 'holds no PEM CERTIFICATE');
  return blocks.map((block) => {
    const der = decodePem(block, 'CERTIFICATE', '--in');
    parseCertificate(der);
    return der;
  });
}

async function output(flags: FlagValues, io: CliIO, text: string): Promise<void> {
  if (typeof flags.out === 'string') await writeFile(resolve(io.cwd, flags.out), text, { mode: 0o644 });
  else io.stdout.write(text);
}

async function attach(vault: Vault, key: SigningKey, chain: Uint8Array[]): Promise<void> {
  const leaf = parseCertificate(chain[0]!);
  if (Buffer.compare(Buffer.from(leaf.spki), Buffer.from(key.spki)) !== 0) {
    throw invalidParameter('--in', `the first certificate's public key is not key version ${key.keyVersionId}'s`);
  }
  const pem = chain.map(certificatePem).join('');
  await vault.store.write((db) => {
    db.prepare(
      'INSERT INTO certificates (key_version_id, chain_pem, attached_date) VALUES (?, ?, ?) ON CONFLICT(key_version_id) DO UPDATE SET chain_pem = excluded.chain_pem, attached_date = excluded.attached_date',
    ).run(key.keyVersionId, pem, kmsDate(vault.now()));
    appendAuditEntries(db, [{ action: 'AttachCertificate', code: 'OK', caller: 'cli', requestId: randomUUID(), keyId: key.keyId, keyVersionId: key.keyVersionId }]);
  });
}

function attachedChain(vault: Vault, keyVersionId: string): string | undefined {
  const row = vault.store.db.prepare('SELECT chain_pem FROM certificates WHERE key_version_id = ?').get(keyVersionId) as { chain_pem: string } | undefined;
  return row?.chain_pem;
}

export const certCommand: Command = {
  name: 'cert',
  summary: 'Offline CA: self-sign a root, issue from a CSR, attach a chain to a key version, export it',
  usage:
    'deskkms cert self-sign KEY --version V --subject DN [--days N] [--path-len N] [-o FILE] | issue KEY --version V --csr FILE [--days N] [--policy P] [--ca [--path-len N]] [-o FILE] | attach KEY --version V --in FILE | export KEY --version V [-o FILE]',
  flags: {
    ...VAULT_FLAGS,
    version: { type: 'string', value: 'V', required: true, description: 'the KeyVersionId (of the CA key for issue)' },
    subject: { type: 'string', value: 'DN', description: 'self-sign: the CA subject, e.g. "CN=Offline Root,O=Example,C=CN"' },
    days: { type: 'string', value: 'N', description: 'self-sign / issue: validity in days (default 365)' },
    'path-len': { type: 'string', value: 'N', description: 'self-sign, issue --ca: basicConstraints pathLen' },
    csr: { type: 'string', value: 'FILE', description: 'issue: the PKCS#10 request (PEM)' },
    policy: { type: 'string', value: 'P', description: 'issue: copy-requested-extensions (default) or leaf-defaults' },
    ca: { type: 'boolean', description: 'issue: an intermediate CA certificate' },
    in: { type: 'string', value: 'FILE', description: 'attach: PEM chain, the key version\'s certificate first' },
    algorithm: { type: 'string', value: 'ALG', description: 'signature algorithm (default RSA_PKCS1_SHA_256 for RSA, else the spec\'s)' },
    out: { type: 'string', value: 'FILE', short: 'o', description: 'write the PEM here instead of stdout' },
  },
  positionals: ['self-sign|issue|attach|export', 'KEY'],
  details:
    'self-sign attaches the new root to its key version; issue needs the CA key version to have its certificate attached. SM2: openssl verify -vfyopt distid:1234567812345678.',
  async run(flags, io, positionals = []) {
    const [sub, keyRef] = positionals;
    if (!sub || !['self-sign', 'issue', 'attach', 'export'].includes(sub)) throw invalidParameter('cert', 'give self-sign, issue, attach or export');
    if (!keyRef || positionals.length > 2) throw missingParameter('KEY');
    if (typeof flags.version !== 'string') throw missingParameter('--version');
    const version = flags.version;
    const pathLen = typeof flags['path-len'] === 'string' ? Number(flags['path-len']) : undefined;
    if (pathLen !== undefined && !(Number.isInteger(pathLen) && pathLen >= 0)) throw invalidParameter('--path-len', 'must be a whole number');
    const csrText = sub === 'issue' ? await readInput(flags, 'csr', io) : undefined;
    const chainText = sub === 'attach' ? await readInput(flags, 'in', io) : undefined;
    return withVault(flags, io, async (vault) => {
      const key = await signingKey(vault, keyRef, version, flags.algorithm);
      if (sub === 'self-sign') {
        if (typeof flags.subject !== 'string') throw missingParameter('--subject');
        const der = await selfSignCertificate({ subject: flags.subject, ...validity(flags, vault.now()), ...(pathLen !== undefined ? { pathLen } : {}) }, key, signer(vault, key));
        await attach(vault, key, [der]);
        await output(flags, io, certificatePem(der));
      } else if (sub === 'issue') {
        const chain = attachedChain(vault, key.keyVersionId);
        if (!chain) throw new KmsError('InvalidParameter', `CA key version ${key.keyVersionId} has no certificate attached: cert self-sign or cert attach it first`);
        const caChain = readChain(chain);
        const policy = typeof flags.policy === 'string' ? flags.policy : 'copy-requested-extensions';
        const der = await issueCertificate(
          decodePem(csrText!, 'CERTIFICATE REQUEST', '--csr'),
          { ...key, certificate: caChain[0]! },
          { ...validity(flags, vault.now()), policy: policy as 'copy-requested-extensions', ...(flags.ca === true ? { ca: pathLen !== undefined ? { pathLen } : {} } : {}) },
          signer(vault, key),
        );
        await output(flags, io, certificatePem(der) + caChain.map(certificatePem).join(''));
      } else if (sub === 'attach') {
        await attach(vault, key, readChain(chainText!));
        io.stdout.write(`${JSON.stringify({ KeyId: key.keyId, KeyVersionId: key.keyVersionId, Result: 'Attached' })}\n`);
      } else {
        const chain = attachedChain(vault, key.keyVersionId);
        if (!chain) throw new KmsError('InvalidParameter', `key version ${key.keyVersionId} has no certificate attached`);
        await output(flags, io, chain);
      }
      return EXIT_OK;
    });
  },
};

async function readInput(flags: FlagValues, flag: string, io: CliIO): Promise<string> {
  const path = flags[flag];
  if (typeof path !== 'string') throw missingParameter(`--${flag}`);
  try {
    return await readFile(resolve(io.cwd, path), 'utf8');
  } catch {
    throw invalidParameter(`--${flag}`, `${path} cannot be read`);
  }
}

// deskkms cert self-sign | issue | attach | export: an air-gapped station as an offline CA.
// Every signature comes from AsymmetricSign through the handler table (key worker, key state,
// audit); attaching a chain is audited too.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { appendAuditEntries } from '../../audit/audit-log.ts';
import { KmsError, invalidParameter, missingParameter } from '../../contract/errors.ts';
import { decodePem } from '../../crypto/pem.ts';
import { attachedChain, attachChain } from '../../vault/records.ts';
import { kmsDate, type Vault } from '../../vault/vault.ts';
import { certificatePem, issueCertificate, parseCertificate, selfSignCertificate } from '../../x509/certificate.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { signingKey, vaultSigner, writePublicOutput, type SigningKey } from '../vault-signer.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

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

async function attach(vault: Vault, key: SigningKey, chain: Uint8Array[]): Promise<void> {
  const leaf = parseCertificate(chain[0]!);
  if (Buffer.compare(Buffer.from(leaf.spki), Buffer.from(key.spki)) !== 0) {
    throw invalidParameter('--in', `the first certificate's public key is not key version ${key.keyVersionId}'s`);
  }
  const pem = chain.map(certificatePem).join('');
  await vault.store.write((db) => {
    attachChain(db, key.keyVersionId, pem, kmsDate(vault.now()));
    appendAuditEntries(db, [{ action: 'AttachCertificate', code: 'OK', caller: 'cli', requestId: randomUUID(), keyId: key.keyId, keyVersionId: key.keyVersionId }]);
  });
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
        const der = await selfSignCertificate({ subject: flags.subject, ...validity(flags, vault.now()), ...(pathLen !== undefined ? { pathLen } : {}) }, key, vaultSigner(vault, key));
        await attach(vault, key, [der]);
        await writePublicOutput(flags, io, certificatePem(der));
      } else if (sub === 'issue') {
        const chain = attachedChain(vault.store.db, key.keyVersionId);
        if (!chain) throw new KmsError('InvalidParameter', `CA key version ${key.keyVersionId} has no certificate attached: cert self-sign or cert attach it first`);
        const caChain = readChain(chain);
        const policy = typeof flags.policy === 'string' ? flags.policy : 'copy-requested-extensions';
        const der = await issueCertificate(
          decodePem(csrText!, 'CERTIFICATE REQUEST', '--csr'),
          { ...key, certificate: caChain[0]! },
          { ...validity(flags, vault.now()), policy: policy as 'copy-requested-extensions', ...(flags.ca === true ? { ca: pathLen !== undefined ? { pathLen } : {} } : {}) },
          vaultSigner(vault, key),
        );
        await writePublicOutput(flags, io, certificatePem(der) + caChain.map(certificatePem).join(''));
      } else if (sub === 'attach') {
        await attach(vault, key, readChain(chainText!));
        io.stdout.write(`${JSON.stringify({ KeyId: key.keyId, KeyVersionId: key.keyVersionId, Result: 'Attached' })}\n`);
      } else {
        const chain = attachedChain(vault.store.db, key.keyVersionId);
        if (!chain) throw new KmsError('InvalidParameter', `key version ${key.keyVersionId} has no certificate attached`);
        await writePublicOutput(flags, io, chain);
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

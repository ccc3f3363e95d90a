// deskkms cert self-sign | issue | attach | export: an air-gapped station as an offline CA.
// A thin host over the CreateSelfSignedCertificate, IssueCertificate, AttachCertificate and
// GetCertificates Actions (key worker, key state, audit), the same code batch and the app call.
import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { callAction } from '../actions-cli.ts';
import { writePublicOutput } from '../public-output.ts';
import { readSmallFile } from '../inputs.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

export const certCommand: Command = {
  name: 'cert',
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
    const days = typeof flags.days === 'string' ? flags.days : undefined;
    const common = {
      KeyId: keyRef,
      KeyVersionId: version,
      ...(typeof flags.algorithm === 'string' ? { Algorithm: flags.algorithm } : {}),
      ...(days !== undefined ? { ValidityDays: days } : {}),
    };
    return withVault(flags, io, async (vault) => {
      if (sub === 'self-sign') {
        if (typeof flags.subject !== 'string') throw missingParameter('--subject');
        const body = await callAction(io, vault, 'CreateSelfSignedCertificate', { ...common, Subject: flags.subject, ...(pathLen !== undefined ? { PathLen: pathLen } : {}) });
        await writePublicOutput(flags, io, body.Certificate as string);
      } else if (sub === 'issue') {
        const body = await callAction(io, vault, 'IssueCertificate', {
          ...common,
          Csr: csrText,
          ...(typeof flags.policy === 'string' ? { Policy: flags.policy } : {}),
          ...(flags.ca === true ? { IsCa: true, ...(pathLen !== undefined ? { PathLen: pathLen } : {}) } : {}),
        });
        await writePublicOutput(flags, io, body.CertificateChain as string);
      } else if (sub === 'attach') {
        const attached = await callAction(io, vault, 'AttachCertificate', { KeyId: keyRef, KeyVersionId: version, CertificateChain: chainText });
        io.stdout.write(`${JSON.stringify({ KeyId: attached.KeyId, KeyVersionId: version, Result: 'Attached' })}\n`);
      } else {
        const body = await callAction(io, vault, 'GetCertificates', { KeyId: keyRef, KeyVersionId: version });
        const certificates = body.Certificates as { Pem: string }[];
        if (certificates.length === 0) throw invalidParameter('--version', `key version ${version} has no certificate attached`);
        await writePublicOutput(flags, io, certificates.map((c) => c.Pem).join(''));
      }
      return EXIT_OK;
    });
  },
};

async function readInput(flags: FlagValues, flag: string, io: CliIO): Promise<string> {
  const path = flags[flag];
  if (typeof path !== 'string') throw missingParameter(`--${flag}`);
  return new TextDecoder().decode(await readSmallFile(flag, path, io));
}

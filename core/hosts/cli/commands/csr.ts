// deskkms csr KEY --version V --subject "CN=...,O=..." [--san DNS:name]... [-o FILE]
// A PKCS#10 request for an offline CA, through the CreateCertificateSigningRequest Action (the
// same code batch and the app call): the private key stays in the key worker, key state and usage
// are enforced, and the signing is audited like any other.
import { invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { EXIT_OK, type Command } from '../command.ts';
import { callAction } from '../actions-cli.ts';
import { writePublicOutput } from '../public-output.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

function list(value: unknown): string[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
}

export const csrCommand: Command = {
  name: 'csr',
  usage: 'deskkms csr KEY --version V --subject "CN=...,O=..." [--san DNS:name]... [--key-usage U,...] [--ext-key-usage U,...] [--ca [--path-len N]] [--algorithm ALG] [-o FILE]',
  flags: {
    ...VAULT_FLAGS,
    version: { type: 'string', value: 'V', required: true, description: 'the KeyVersionId' },
    subject: { type: 'string', value: 'DN', required: true, description: 'RFC 4514 style: CN, O, OU, L, ST, C, emailAddress, serialNumber (escape commas with \\,)' },
    san: { type: 'string', value: 'TYPE:VALUE', multiple: true, description: 'subject alternative name: DNS:, IP:, email:, URI: (repeatable)' },
    'key-usage': { type: 'string', value: 'LIST', multiple: true, description: 'digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign' },
    'ext-key-usage': { type: 'string', value: 'LIST', multiple: true, description: 'serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or an OID' },
    ca: { type: 'boolean', description: 'request basicConstraints CA:TRUE' },
    'path-len': { type: 'string', value: 'N', description: 'with --ca: the path length constraint' },
    algorithm: {
      type: 'string',
      value: 'ALG',
      description: 'signature algorithm (default: RSA_PKCS1_SHA_256 for RSA, ECDSA_SHA_256, SM2DSA); RSA_PSS_SHA_256 writes RSASSA-PSS',
    },
    out: { type: 'string', value: 'FILE', short: 'o', description: 'write the PEM here instead of stdout' },
  },
  positionals: ['KEY'],
  details: 'KEY is a KeyId or alias/NAME. SM2 requests use SM2-with-SM3 with ID 1234567812345678 (openssl: req -verify -vfyopt distid:1234567812345678).',
  async run(flags, io, positionals = []) {
    const keyRef = positionals[0];
    if (!keyRef || positionals.length > 1) throw missingParameter('KEY');
    if (typeof flags.version !== 'string') throw missingParameter('--version');
    if (typeof flags.subject !== 'string') throw missingParameter('--subject');
    const pathLen = typeof flags['path-len'] === 'string' ? Number(flags['path-len']) : undefined;
    if (pathLen !== undefined && !(Number.isInteger(pathLen) && pathLen >= 0)) throw invalidParameter('--path-len', 'must be a whole number');
    return withVault(flags, io, async (vault) => {
      const body = await callAction(io, vault, 'CreateCertificateSigningRequest', {
        KeyId: keyRef,
        KeyVersionId: flags.version,
        Subject: flags.subject,
        SubjectAlternativeNames: list(flags.san),
        KeyUsage: list(flags['key-usage']),
        ExtendedKeyUsage: list(flags['ext-key-usage']),
        ...(typeof flags.algorithm === 'string' ? { Algorithm: flags.algorithm } : {}),
        ...(flags.ca === true ? { BasicConstraints: { CA: true, ...(pathLen !== undefined ? { PathLen: pathLen } : {}) } } : {}),
      });
      await writePublicOutput(flags, io, body.Csr as string);
      return EXIT_OK;
    });
  },
};

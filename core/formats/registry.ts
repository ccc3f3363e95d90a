// The signature formats by name: hosts (the CLI's sign/verify, the app's Sign view) pick one here.
import { KmsError } from '../contract/errors.ts';
import type { SignatureFormat, SignatureFormatName } from './format.ts';
import { jwsFormat } from './jws.ts';
import { openpgpFormat } from './openpgp.ts';
import { rawFormat } from './raw.ts';
import { sigstoreFormat } from './sigstore.ts';
import { sshFormat } from './sshsig.ts';

const FORMATS: Readonly<Record<SignatureFormatName, SignatureFormat>> = {
  raw: rawFormat,
  ssh: sshFormat,
  openpgp: openpgpFormat,
  sigstore: sigstoreFormat,
  jws: jwsFormat,
};

export function signatureFormat(name: SignatureFormatName): SignatureFormat {
  const format = FORMATS[name];
  if (!format) throw new KmsError('InvalidParameter', `Format: ${String(name)} is not a signature format; valid: ${Object.keys(FORMATS).join(', ')}`);
  return format;
}

/** The default output file for a signature of `file` (FILE.sig, FILE.asc, FILE.sigstore.json, FILE.jws). */
export function defaultSignatureName(file: string, name: SignatureFormatName): string {
  return `${file}${signatureFormat(name).extension}`;
}

// The online machine again: a response is checked against the request it answers and the files
// it names before anything is written. It must carry this request's id and the SHA-256 of these
// request bytes, the request's files in order with their SHA-256s, each file (re-hashed from disk)
// must still be the one hashed at creation, each signature must verify by the format's own
// verifier with the response's public key, and that key must be the one the request pinned, or
// that finish was given. Every refusal is Request.Mismatch naming what differs; the result is the
// ecosystem files' bytes, which the host writes (atomically, all checked first).
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { Certificate } from '@peculiar/asn1-x509';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { UUID } from '../contract/ids.ts';
import { keyReference } from '../contract/policy.ts';
import { digestMessage, importPublicKey, verifyDigest, type PublicKey } from '../crypto/public-key.ts';
import type { VerifyMaterial } from '../formats/format.ts';
import { MAX_ATTACHED_PAYLOAD, attachJwsPayload } from '../formats/jws.ts';
import { TAG, dearmor, readKeyBody, readPackets } from '../formats/openpgp-packets.ts';
import { defaultSignatureName, signatureFormat } from '../formats/registry.ts';
import { openSshPublicKey } from '../formats/sshsig.ts';
import { certificatePem } from '../x509/certificate.ts';
import { formatName } from '../x509/name.ts';
import { signingAlgorithmOf } from '../x509/signature-algorithm.ts';
import { MAX_CSR_BYTES, normaliseCsr, publicKeyFile } from './online.ts';
import { canonicalCsrDer, parseRequest, parseResponse, sha256Hex } from './request-file.ts';
import type { SigningRequest, SigningResponse } from '../contract/signing-requests.ts';

export interface FinishInput {
  readonly request: Uint8Array;
  readonly response: Uint8Array;
  /** The file the request names (its base name), streamed from where the user keeps it. */
  readonly openFile: (name: string) => Promise<AsyncIterable<Uint8Array>>;
  /** A public key file (SPKI PEM/DER, an OpenSSH line, a JWK) the signer must be. */
  readonly publicKey?: Uint8Array;
  /** openpgp: the signer's certificate, when the response carries none (a request made without a UserId). */
  readonly certificate?: Uint8Array;
  /** Bytes re-hashed so far, of the request's total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface FinishResult {
  /** Per request file, in its order: the ecosystem file (FILE.sig, .asc, .sigstore.json, .jws; csr: NAME.crt). */
  readonly outputs: { readonly Name: string; readonly FileName: string; readonly Bytes: Uint8Array }[];
  /** The public material the format's users need (release.pub, .asc, .jwk, .pem). */
  readonly publicMaterial: { readonly FileName: string; readonly Bytes: Uint8Array }[];
  readonly KeyId: string;
  readonly KeyVersionId: string;
  /** SHA-256 (hex) of the signer's SubjectPublicKeyInfo. */
  readonly SpkiSha256: string;
  /** Who signed, as the format's verifier names it (an SSH fingerprint, the OpenPGP certificate, the CA). */
  readonly Signer: string;
  /** Whether the signer's key was pinned (the request's PublicKey or finish's publicKey); false: the response's own key was trusted. */
  readonly Pinned: boolean;
}

function mismatch(message: string): KmsError {
  return new KmsError('Request.Mismatch', message);
}

/** Every binding between the request and the response, before any file is read. */
function checkBindings(request: SigningRequest, requestBytes: Uint8Array, response: SigningResponse, pinnedByFinish: Uint8Array | undefined): PublicKey {
  if (response.RequestId !== request.RequestId) {
    throw mismatch(`the response answers request ${response.RequestId}, not this request ${request.RequestId}: give the response to this request`);
  }
  const requestSha256 = sha256Hex(requestBytes);
  if (response.RequestSha256 !== requestSha256) {
    throw mismatch(`the response answers a request with SHA-256 ${response.RequestSha256}, not these request bytes (SHA-256 ${requestSha256}): the request file was changed`);
  }
  if (response.Format !== request.Format) throw mismatch(`the response is in format ${response.Format}, the request asked for ${request.Format}`);
  if (request.KeyVersionId !== undefined && response.KeyVersionId !== request.KeyVersionId) {
    throw mismatch(`the response was signed by key version ${response.KeyVersionId}, the request named version ${request.KeyVersionId}`);
  }
  // The response's KeyId is a UUID (its schema); a request that named a KeyId (or the ARN of one) must get that key.
  const { kind, name } = keyReference(request.Key);
  if (kind === 'key' && UUID.test(name) && response.KeyId !== name) throw mismatch(`the response was signed by key ${response.KeyId}, the request named key ${name}`);
  if (response.Files.length !== request.Files.length) {
    throw mismatch(`the response has ${response.Files.length} file(s); the request has ${request.Files.length}`);
  }
  response.Files.forEach((file, i) => {
    const asked = request.Files[i]!;
    if (file.Name !== asked.Name) throw mismatch(`Files[${i}]: the response names ${escapeText(file.Name, 255)} where the request has ${escapeText(asked.Name, 255)} (not the request's files in its order)`);
    if (file.Sha256 !== asked.Sha256) throw mismatch(`Files[${i}] ${escapeText(file.Name, 255)}: the response's SHA-256 ${file.Sha256} is not the request's ${asked.Sha256}`);
  });
  let key: PublicKey;
  try {
    key = importPublicKey(decodeBase64(response.PublicKey, 'PublicKey'), 'PublicKey');
  } catch (error) {
    throw mismatch(`the response's PublicKey cannot be read (${error instanceof KmsError ? error.message : 'unreadable'})`);
  }
  if (key.spec !== response.KeySpec) throw mismatch(`the response's PublicKey is a ${key.spec} key, not the ${escapeText(response.KeySpec, 32)} it names`);
  const spkiSha256 = sha256Hex(key.spki);
  if (request.PublicKey !== undefined && request.PublicKey !== response.PublicKey) {
    throw mismatch(`the response was signed by key ${spkiSha256} (SHA-256 of its public key), not by the key the request pinned (${sha256Hex(decodeBase64(request.PublicKey, 'PublicKey'))})`);
  }
  if (pinnedByFinish !== undefined && encodeBase64(pinnedByFinish) !== response.PublicKey) {
    throw mismatch(`the response was signed by key ${spkiSha256} (SHA-256 of its public key), not by the --public-key given (${sha256Hex(pinnedByFinish)})`);
  }
  // The public material published beside the signatures must be this key's.
  const m = response.PublicMaterial;
  const notThisKey = (what: string) => mismatch(`the response's ${what} is not the public key that signed (${spkiSha256})`);
  if (m.SshPublicKey !== undefined && m.SshPublicKey.split(' ').slice(0, 2).join(' ') !== openSshPublicKey(key.spki)) throw notThisKey('SshPublicKey');
  if (m.PublicKeyPem !== undefined && encodeBase64(publicKeyFile(new TextEncoder().encode(m.PublicKeyPem), 'PublicKeyPem').key.spki) !== response.PublicKey) throw notThisKey('PublicKeyPem');
  if (m.Jwk !== undefined && encodeBase64(publicKeyFile(new TextEncoder().encode(m.Jwk), 'Jwk').key.spki) !== response.PublicKey) throw notThisKey('Jwk');
  return key;
}

/**
 * openpgp: the certificate to verify with (the response's, else the one given to finish), whose
 * primary key must be the response's key: its fingerprint is what the signatures must name.
 */
function openpgpCertificate(response: SigningResponse, given: Uint8Array | undefined): { bytes: Uint8Array; fingerprint: string } {
  const carried = response.PublicMaterial.OpenPgpCertificate;
  const bytes = carried !== undefined ? new TextEncoder().encode(carried) : given;
  if (bytes === undefined) {
    throw new KmsError('MissingParameter', "--certificate is required: the response carries no OpenPGP certificate (the request had no --user-id); give the signer's certificate");
  }
  const what = carried !== undefined ? "the response's OpenPgpCertificate" : 'the --certificate file';
  let primary: ReturnType<typeof readKeyBody> | undefined;
  try {
    const packet = readPackets(dearmor(bytes, 'PGP PUBLIC KEY BLOCK', what), what).find((p) => p.tag === TAG.publicKey);
    primary = packet ? readKeyBody(packet.body, what) : undefined;
  } catch (error) {
    if (carried === undefined && error instanceof KmsError) throw new KmsError('InvalidParameter', `--certificate: ${error.message}`);
    throw mismatch(`${what} cannot be read (${error instanceof KmsError ? error.message : 'unreadable'})`);
  }
  if (primary === undefined || 'unsupported' in primary) {
    const why = `${what} holds no primary key DeskKMS can read`;
    throw carried === undefined ? new KmsError('InvalidParameter', `--certificate: ${why}`) : mismatch(why);
  }
  if (encodeBase64(primary.spki) !== response.PublicKey) throw mismatch(`${what} is the certificate of key ${primary.fingerprint}, not of the key that signed (${sha256Hex(decodeBase64(response.PublicKey, 'PublicKey'))})`);
  return { bytes, fingerprint: primary.fingerprint };
}

/** The verifier's material: the signer's public key (and the format's own options, certificate). */
function materialOf(request: SigningRequest, response: SigningResponse, certificate: Uint8Array | undefined): VerifyMaterial {
  return {
    publicKey: decodeBase64(response.PublicKey, 'PublicKey'),
    ...(certificate !== undefined ? { certificate } : {}),
    ...(request.Options.Namespace !== undefined ? { namespace: request.Options.Namespace } : {}),
    ...(request.Options.Algorithm !== undefined ? { algorithm: request.Options.Algorithm as VerifyMaterial['algorithm'] } : {}),
  };
}

/** The base name without its extension (host.csr -> host) for the certificate's file name. */
function certificateName(csrName: string): string {
  const stem = csrName.replace(/\.(csr|req|pem|p10)$/i, '');
  return `${stem === '' ? csrName : stem}.crt`;
}

/** A short file-name-safe stem for the public material: the alias name or the KeyId. */
function materialStem(request: SigningRequest, response: SigningResponse): string {
  const { kind, name } = keyReference(request.Key);
  const raw = kind === 'alias' ? name.slice('alias/'.length) : response.KeyId;
  const safe = raw.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return safe === '' ? response.KeyId : safe.slice(0, 128);
}

/** The certificates of a PEM chain: "CERTIFICATE" blocks and nothing but white space between and around them. */
function certificateBlocks(text: string): Uint8Array[] | undefined {
  const blocks: Uint8Array[] = [];
  const re = /\s*-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END CERTIFICATE-----/y;
  let at = 0;
  for (;;) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) break;
    blocks.push(decodeBase64(m[1]!.replace(/\r?\n/g, ''), 'CertificateChain'));
    at = re.lastIndex;
  }
  return blocks.length > 0 && text.slice(at).trim() === '' ? blocks : undefined;
}

/** Whether `cert`'s signature verifies with `issuer`'s key. */
async function signedBy(cert: Certificate, issuer: PublicKey): Promise<boolean> {
  const algorithm = signingAlgorithmOf(cert.signatureAlgorithm);
  if (algorithm === undefined) return false;
  try {
    return verifyDigest(issuer, algorithm, await digestMessage(issuer, algorithm, new Uint8Array(AsnConvert.serialize(cert.tbsCertificate))), new Uint8Array(cert.signatureValue));
  } catch {
    return false;
  }
}

const spkiOf = (cert: Certificate): Uint8Array => new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));

/**
 * csr: the whole CertificateChain is checked: the first certificate is for the CSR's key and
 * signed by the response's key (the CA), each next one is the certificate of the key that signed
 * the one before (the first of them for the response's key). Gives the checked chain, re-armoured.
 */
async function checkCertificate(request: SigningRequest, response: SigningResponse, ca: PublicKey): Promise<{ signer: string; chain: string }> {
  const chainText = response.PublicMaterial.CertificateChain;
  if (chainText === undefined) throw mismatch('the response to a csr request carries no CertificateChain');
  let chain: Uint8Array[];
  let certs: Certificate[];
  let csrSpki: Uint8Array;
  try {
    const blocks = certificateBlocks(chainText);
    if (blocks === undefined) throw new Error('not PEM');
    chain = blocks;
    certs = chain.map((der) => AsnConvert.parse(der, Certificate));
    const csrDer = canonicalCsrDer(request.Csr ?? '');
    csrSpki = new Uint8Array(AsnConvert.serialize(AsnConvert.parse(csrDer ?? new Uint8Array(), CertificationRequest).certificationRequestInfo.subjectPKInfo));
  } catch {
    throw mismatch('the response\'s CertificateChain (or the request\'s CSR) is not readable PEM DER (CERTIFICATE blocks and nothing else)');
  }
  const issued = response.Files[0]!;
  if (encodeBase64(chain[0]!) !== issued.Signature) throw mismatch(`Files[0] ${escapeText(issued.Name, 255)}: the certificate is not the first of the CertificateChain`);
  const leaf = certs[0]!;
  if (encodeBase64(spkiOf(leaf)) !== encodeBase64(csrSpki)) throw mismatch('the certificate is not for the CSR\'s public key');
  if (!(await signedBy(leaf, ca))) throw mismatch(`the certificate is not signed by the response's CA key (${sha256Hex(ca.spki)})`);
  if (certs.length > 1 && encodeBase64(spkiOf(certs[1]!)) !== encodeBase64(ca.spki)) {
    throw mismatch(`CertificateChain[1] is not the certificate of the response's CA key (${sha256Hex(ca.spki)})`);
  }
  for (let i = 1; i + 1 < certs.length; i += 1) {
    let issuer: PublicKey;
    try {
      issuer = importPublicKey(spkiOf(certs[i + 1]!), `CertificateChain[${i + 1}]`);
    } catch {
      throw mismatch(`CertificateChain[${i + 1}]: its public key cannot be read`);
    }
    if (!(await signedBy(certs[i]!, issuer))) throw mismatch(`CertificateChain[${i}] is not signed by the key of CertificateChain[${i + 1}]`);
  }
  return {
    signer: `CA ${escapeText(formatName(leaf.tbsCertificate.issuer), 512)} (key ${response.KeyId} version ${response.KeyVersionId})`,
    chain: chain.map((der) => certificatePem(der)).join(''),
  };
}

/** Checks the response against the request and the files, then gives the files to write. */
export async function finishRequest(input: FinishInput): Promise<FinishResult> {
  const request = parseRequest(input.request);
  const response = parseResponse(input.response);
  const pinned = input.publicKey !== undefined ? publicKeyFile(input.publicKey).key.spki : undefined;
  const key = checkBindings(request, input.request, response, pinned);
  const total = request.Files.reduce((sum, f) => sum + f.Size, 0);
  let done = 0;
  const outputs: { Name: string; FileName: string; Bytes: Uint8Array }[] = [];
  const signers = new Set<string>();
  const format = request.Format === 'csr' ? undefined : signatureFormat(request.Format);
  const certificate = request.Format === 'openpgp' ? openpgpCertificate(response, input.certificate) : undefined;
  const material = materialOf(request, response, certificate?.bytes);
  const attach = request.Format === 'jws' && request.Options.Detached !== true;
  for (const [i, file] of request.Files.entries()) {
    const signature = decodeBase64(response.Files[i]!.Signature, `Files[${i}].Signature`);
    let pending: ReturnType<NonNullable<typeof format>['verify']> | undefined;
    if (format) {
      try {
        pending = format.verify(signature, material);
      } catch (error) {
        if (error instanceof KmsError && error.code === 'MissingParameter') throw error;
        throw mismatch(`Files[${i}] ${escapeText(file.Name, 255)}: the signature cannot be read (${error instanceof KmsError ? error.message : 'unreadable'})`);
      }
    }
    const hash = createHash('sha256');
    const payload: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of await input.openFile(file.Name)) {
      hash.update(chunk);
      pending?.update(chunk);
      size += chunk.length;
      if (request.Format === 'csr') {
        if (size > MAX_CSR_BYTES) throw mismatch(`${escapeText(file.Name, 255)} is not the CSR the request was made for: over ${MAX_CSR_BYTES} bytes`);
        payload.push(chunk);
      }
      if (attach) {
        if (size > MAX_ATTACHED_PAYLOAD) throw mismatch(`${escapeText(file.Name, 255)}: over ${MAX_ATTACHED_PAYLOAD} bytes, too large to attach to a JWS (make the request --detached)`);
        payload.push(chunk);
      }
      done += chunk.length;
      input.onProgress?.(done, total);
    }
    // csr: the request carries the CSR in its one canonical PEM form (create normalised it); the file is read the same way.
    let sha256 = hash.digest('hex');
    if (request.Format === 'csr') {
      try {
        sha256 = sha256Hex(normaliseCsr(Buffer.concat(payload), file.Name, '--dir').pem);
      } catch {
        throw mismatch(`${escapeText(file.Name, 255)} is not the CSR the request was made for: it is not a CSR`);
      }
    }
    if (sha256 !== file.Sha256) {
      throw mismatch(`${escapeText(file.Name, 255)} is not the file the request was made for: its SHA-256 is ${sha256} (${size} bytes), the request's ${file.Sha256} (${file.Size} bytes)`);
    }
    if (request.Format === 'csr') {
      const checked = await checkCertificate(request, response, key);
      signers.add(checked.signer);
      outputs.push({ Name: file.Name, FileName: certificateName(file.Name), Bytes: new TextEncoder().encode(checked.chain) });
      continue;
    }
    let result;
    try {
      result = pending!.result();
    } catch (error) {
      throw mismatch(`Files[${i}] ${escapeText(file.Name, 255)}: the signature cannot be checked (${error instanceof KmsError ? error.message : 'unreadable'})`);
    }
    if (!result.valid) throw mismatch(`${escapeText(file.Name, 255)}: the signature does not verify: ${result.reason ?? 'invalid'}`);
    // openpgp: by the certificate's primary key itself (the response's key), not a subkey of it.
    if (certificate && (result.signer === undefined || !result.signer.includes(certificate.fingerprint) || result.signer.includes('subkey'))) {
      throw mismatch(`${escapeText(file.Name, 255)}: the signature is not by the certificate's primary key ${certificate.fingerprint} (${escapeText(result.signer ?? 'no signer', 256)})`);
    }
    if (result.signer !== undefined) signers.add(result.signer);
    const bytes = attach ? attachJwsPayload(signature, Buffer.concat(payload)) : signature;
    outputs.push({ Name: file.Name, FileName: defaultSignatureName(file.Name, request.Format), Bytes: bytes });
  }
  const stem = materialStem(request, response);
  const taken = new Set(outputs.map((o) => o.FileName));
  const named = (extension: string): string => (taken.has(`${stem}${extension}`) ? `${stem}.public${extension}` : `${stem}${extension}`);
  const m = response.PublicMaterial;
  const publicMaterial: { FileName: string; Bytes: Uint8Array }[] = [];
  const text = (t: string) => new TextEncoder().encode(t.endsWith('\n') ? t : `${t}\n`);
  if (m.SshPublicKey !== undefined) publicMaterial.push({ FileName: named('.pub'), Bytes: text(m.SshPublicKey) });
  if (m.OpenPgpCertificate !== undefined) publicMaterial.push({ FileName: named('.asc'), Bytes: text(m.OpenPgpCertificate) });
  if (m.Jwk !== undefined) publicMaterial.push({ FileName: named('.jwk'), Bytes: text(m.Jwk) });
  if (m.PublicKeyPem !== undefined) publicMaterial.push({ FileName: named('.pem'), Bytes: text(m.PublicKeyPem) });
  return {
    outputs,
    publicMaterial,
    KeyId: response.KeyId,
    KeyVersionId: response.KeyVersionId,
    SpkiSha256: sha256Hex(key.spki),
    Signer: [...signers].join('; ') || `${key.spec} key ${sha256Hex(key.spki)}`,
    Pinned: request.PublicKey !== undefined || pinned !== undefined,
  };
}

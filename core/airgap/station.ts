// The station's half of a signing request (the vault is here, the files are not): review reads
// the request against the vault and lists every reason it cannot be signed (nothing is signed);
// approve signs only a request without a Problem, each file by the format's complete() and one
// AsymmetricSign through the one signing route (core/actions/format-signing.ts's call), audited as
// "<host>:request:<RequestId>:<format>", then records ApproveSigningRequest; reject records
// RejectSigningRequest. A refused approval is recorded too, with the Problem's Code.
// Each file's preparation must be of the file whose SHA-256 is shown: where the format can derive
// that SHA-256 from it (fileSha256: raw, sigstore, ssh, openpgp requests) a difference is a
// Request.Mismatch Problem; where it cannot (jws, raw over SM2) the review says so (Bound false).
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import {
  ExtendedKeyUsage,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  type GeneralName,
} from '@peculiar/asn1-x509';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { ACTION_SCHEMAS, AUDIT_LIST_MAX } from '../contract/actions.ts';
import { KmsError, isErrorCode, type ErrorCode } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { keyStateRefusal } from '../contract/key-state-refusal.ts';
import { call, chooseSigningKey, completeSignature, type ChosenKey, type VaultSigner } from '../actions/format-signing.ts';
import { recordEvent, type DispatchOptions } from '../actions/dispatch.ts';
import { digestMessage, importPublicKey, verifyDigest } from '../crypto/public-key.ts';
import type { SignatureFormatName } from '../formats/format.ts';
import { beginCertificate, checkUserId, openpgpFingerprint } from '../formats/openpgp.ts';
import { signatureFormat } from '../formats/registry.ts';
import { sigstoreKeyHint } from '../formats/sigstore.ts';
import { openSshPublicKey, sshFingerprint } from '../formats/sshsig.ts';
import { aliasesOf, getVersion, listVersions } from '../vault/records.ts';
import type { Vault } from '../vault/vault.ts';
import { OID_EXTENSION_REQUEST } from '../x509/csr.ts';
import { formatName } from '../x509/name.ts';
import { signingAlgorithmOf } from '../x509/signature-algorithm.ts';
import { formatOptionsOf, isoSeconds } from './online.ts';
import { canonicalCsrDer, encodeResponse, parseRequest, sha256Hex } from './request-file.ts';
import {
  APPROVE_EVENT,
  DEFAULT_MAX_AGE_MS,
  MAX_FUTURE_SKEW_MS,
  REJECT_EVENT,
  REQUEST_VERSION,
  RESPONSE_TYPE,
  requestCaller,
  type RequestReview,
  type SigningRequest,
  type SigningResponse,
} from '../contract/signing-requests.ts';

export interface StationOptions {
  /** The host's caller name ("cli", "app"): the audit reads "<host>:request:<RequestId>". */
  readonly host: string;
  /** The station's clock (default the vault's). */
  readonly now?: Date;
  /** The window: a request older than this is refused (default DEFAULT_MAX_AGE_MS, 24 h). */
  readonly maxAgeMs?: number;
  readonly dispatchOptions?: DispatchOptions;
}

type Problem = { readonly Code: string; readonly Message: string };

interface Inspection {
  readonly request: SigningRequest;
  readonly review: RequestReview;
  readonly signer: VaultSigner;
  /** The key version that would sign (absent: it could not be resolved). */
  readonly key?: ChosenKey;
}

/** The longest window a station accepts (a year): a request is meant to cross within hours. */
export const MAX_MAX_AGE_MS = 365 * 24 * 3600 * 1000;

/** The IssueCertificate default validity, read from its schema (so the review says what the Action will do). */
const DEFAULT_VALIDITY_DAYS = ACTION_SCHEMAS.IssueCertificate.shape.ValidityDays.parse(undefined);

const problemOf = (error: unknown): Problem => {
  if (error instanceof KmsError) return { Code: error.code, Message: error.message };
  throw error;
};

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 ? `${(h / 24).toFixed(1).replace(/\.0$/, '')} days` : h >= 1 ? `${h.toFixed(1).replace(/\.0$/, '')} h` : `${Math.round(ms / 60_000)} min`;
}

function windowProblem(request: SigningRequest, now: Date, maxAgeMs: number): Problem | undefined {
  const age = now.getTime() - Date.parse(request.Created);
  if (age > maxAgeMs) {
    return {
      Code: 'Request.Expired',
      Message: `the request was created ${request.Created}, ${hours(age)} ago; this station accepts requests up to ${hours(maxAgeMs)} old (--max-age): make a new request`,
    };
  }
  if (-age > MAX_FUTURE_SKEW_MS) {
    return {
      Code: 'Request.Expired',
      Message: `the request is dated ${request.Created}, ${hours(-age)} in the future by this station's clock (${isoSeconds(now)}); check both clocks`,
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The CSR of a csr request: what the certificate will say (the IssueCertificate rules)

const KEY_USAGE_NAMES: readonly [number, string][] = [
  [KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [KeyUsageFlags.cRLSign, 'cRLSign'],
  [KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

/** A subjectAltName as openssl names it (DNS:, IP:...); the text as the CSR has it (hosts escape what they show). */
function generalName(name: GeneralName): string {
  if (name.dNSName !== undefined) return `DNS:${name.dNSName}`;
  if (name.iPAddress !== undefined) return `IP:${name.iPAddress}`;
  if (name.rfc822Name !== undefined) return `email:${name.rfc822Name}`;
  if (name.uniformResourceIdentifier !== undefined) return `URI:${name.uniformResourceIdentifier}`;
  if (name.directoryName !== undefined) return `DirName:${formatName(name.directoryName)}`;
  if (name.registeredID !== undefined) return `RID:${name.registeredID}`;
  return 'othername';
}

function usageNames(flags: number): string[] {
  return KEY_USAGE_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

/**
 * The CSR's DER when Csr is its one canonical PEM block (request-file.ts canonicalCsrDer, what
 * parseRequest accepts): a single CERTIFICATE REQUEST block, nothing around it, which
 * IssueCertificate's strict reader (core/crypto/pem.ts decodePem) reads too, so what is reviewed
 * clean is issuable. A NEW label, text around the block: Request.Malformed.
 */
function decodeCsrPem(pem: string): Uint8Array {
  const der = canonicalCsrDer(pem);
  if (der === undefined) throw new KmsError('Request.Malformed', 'Csr: is not one PEM "CERTIFICATE REQUEST" block with nothing around it (as IssueCertificate reads it)');
  return der;
}

/** The CSR as the certificate IssueCertificate would make of it will say it (its own signature checked). */
async function csrReview(request: SigningRequest): Promise<NonNullable<RequestReview['Csr']>> {
  const malformed = (why: string) => new KmsError('Request.Malformed', `Csr: ${why}`);
  let csr: CertificationRequest;
  try {
    csr = AsnConvert.parse(decodeCsrPem(request.Csr ?? ''), CertificationRequest);
  } catch (error) {
    if (error instanceof KmsError) throw error;
    throw malformed('is not a DER PKCS#10 CertificationRequest');
  }
  const info = csr.certificationRequestInfo;
  const spki = new Uint8Array(AsnConvert.serialize(info.subjectPKInfo));
  let publicKeySpec: string;
  try {
    const publicKey = importPublicKey(spki, 'Csr');
    publicKeySpec = publicKey.spec;
    const algorithm = signingAlgorithmOf(csr.signatureAlgorithm);
    if (algorithm === undefined) throw malformed(`its signature algorithm ${csr.signatureAlgorithm.algorithm} is not supported`);
    const digest = await digestMessage(publicKey, algorithm, new Uint8Array(AsnConvert.serialize(info)));
    if (!verifyDigest(publicKey, algorithm, digest, new Uint8Array(csr.signature))) throw malformed('its signature does not verify with its own public key (changed?)');
  } catch (error) {
    if (error instanceof KmsError && error.code === 'Request.Malformed') throw error;
    throw malformed(`its key or signature cannot be read (${error instanceof KmsError ? error.message : 'unreadable'})`);
  }
  const requested = new Map<string, ArrayBuffer>();
  for (const attribute of info.attributes.filter((a) => a.type === OID_EXTENSION_REQUEST)) {
    for (const value of attribute.values) {
      try {
        for (const ext of AsnConvert.parse(value, Extensions)) requested.set(ext.extnID, ext.extnValue.buffer);
      } catch {
        throw malformed('has a malformed extensionRequest');
      }
    }
  }
  const parse = <T>(oid: string, type: new () => T, what: string): T | undefined => {
    const value = requested.get(oid);
    if (value === undefined) return undefined;
    try {
      return AsnConvert.parse(value, type);
    } catch {
      throw malformed(`has a malformed ${what} extension`);
    }
  };
  const isCa = request.Options.IsCa === true;
  const policy = request.Options.Policy ?? 'copy-requested-extensions';
  const requestedUsage = parse(id_ce_keyUsage, KeyUsage, 'keyUsage');
  const requestedFlags = requestedUsage?.toNumber() ?? 0;
  const caFlags = KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign;
  let usage = 0;
  let ekus: string[] = [];
  if (policy === 'copy-requested-extensions') {
    if (isCa) usage = caFlags | requestedFlags;
    else if (requestedUsage) usage = requestedFlags & ~caFlags || KeyUsageFlags.digitalSignature;
    ekus = [...(parse(id_ce_extKeyUsage, ExtendedKeyUsage, 'extKeyUsage') ?? [])].map((oid) => EKU_NAMES[oid] ?? oid);
  } else {
    usage = isCa ? caFlags | KeyUsageFlags.digitalSignature : KeyUsageFlags.digitalSignature;
    if (!isCa) ekus = ['serverAuth', 'clientAuth'];
  }
  const sans = [...(parse(id_ce_subjectAltName, SubjectAlternativeName, 'subjectAltName') ?? [])].map(generalName);
  return {
    Subject: formatName(info.subject),
    SubjectAltNames: sans,
    KeyUsages: usageNames(usage),
    ExtendedKeyUsages: ekus,
    PublicKeySpec: publicKeySpec,
    ValidityDays: request.Options.ValidityDays ?? DEFAULT_VALIDITY_DAYS,
    IsCa: isCa,
  };
}

// ---------------------------------------------------------------------------------------------
// Review

/** The key version the request names: its version, the pinned public key's version, or the newest. */
async function resolveKey(vault: Vault, signer: VaultSigner, request: SigningRequest): Promise<ChosenKey> {
  const chosen = await chooseSigningKey(signer, request.Key, request.KeyVersionId, { forSigning: false });
  if (request.KeyVersionId !== undefined || request.PublicKey === undefined || request.PublicKey === encodeBase64(chosen.spki)) return chosen;
  // No version named but a public key pinned: the key's version with that public key, when there is one.
  const pinned = request.PublicKey;
  const match = listVersions(vault.store.db, chosen.keyId).find((v) => encodeBase64(v.public_key) === pinned);
  if (!match) return chosen;
  return { ...(await chooseSigningKey(signer, chosen.keyId, match.key_version_id, { forSigning: false })), newest: false };
}

/**
 * The decisions already taken on this RequestId by any host of this vault (its audit log, callers
 * "<host>:request:<id>"): approvals (ApproveSigningRequest OK) and rejections, oldest first.
 */
async function earlierDecisions(signer: VaultSigner, requestId: string): Promise<RequestReview['Decisions']> {
  const found: { seq: number; decision: RequestReview['Decisions'][number] }[] = [];
  const suffix = `:request:${requestId}`;
  for (const action of [APPROVE_EVENT, REJECT_EVENT]) {
    let before: number | undefined;
    for (;;) {
      const page = await call(signer, 'ListAuditEntries', { Action: action, Limit: AUDIT_LIST_MAX, NewestFirst: true, ...(before !== undefined ? { BeforeSeq: before } : {}) });
      for (const entry of page.Entries) {
        if (!entry.caller.endsWith(suffix) || entry.caller === suffix) continue;
        if (action === APPROVE_EVENT && entry.code !== 'OK') continue;
        found.push({ seq: entry.seq, decision: { Event: action, Time: entry.time, Caller: entry.caller } });
      }
      const last = page.Entries.at(-1);
      if (!page.Truncated || last === undefined) break;
      before = last.seq;
    }
  }
  return found.sort((a, b) => a.seq - b.seq).map((f) => f.decision);
}

async function inspect(vault: Vault, requestBytes: Uint8Array, o: StationOptions): Promise<Inspection> {
  const request = parseRequest(requestBytes);
  const requestSha256 = sha256Hex(requestBytes);
  const now = o.now ?? vault.now();
  const maxAgeMs = o.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  if (!Number.isFinite(maxAgeMs) || maxAgeMs <= 0 || maxAgeMs > MAX_MAX_AGE_MS) throw new KmsError('InvalidParameter', `--max-age: must be between 1 minute and 365 days`);
  const signer: VaultSigner = { vault, caller: requestCaller(o.host, request.RequestId), ...(o.dispatchOptions ? { dispatchOptions: o.dispatchOptions } : {}) };
  const problems: Problem[] = [];
  const add = (p: Problem | undefined) => {
    if (p && !problems.some((q) => q.Code === p.Code && q.Message === p.Message)) problems.push(p);
  };
  add(windowProblem(request, now, maxAgeMs));
  const decisions = await earlierDecisions(signer, request.RequestId);
  const rejected = decisions.find((d) => d.Event === REJECT_EVENT);
  if (rejected) {
    add({
      Code: 'Request.Rejected',
      Message: `this request was rejected at ${rejected.Time} (${escapeText(rejected.Caller, 200)}): a rejected request is not approved later; ask for a new request`,
    });
  }

  let key: ChosenKey | undefined;
  let keyFacts: Partial<RequestReview['Key']> = {};
  try {
    key = await resolveKey(vault, signer, request);
  } catch (error) {
    // Said for the operator: without the Action that failed and dispatch's RequestId.
    const p = problemOf(error);
    const why = p.Message.replace(/^[A-Za-z]+: /, '').replace(/ \(RequestId [^)]*\)$/, '');
    add({ Code: p.Code, Message: `the key the request names (${escapeText(request.Key, 200)}) cannot sign here: ${why}` });
  }
  if (key) {
    const described = (await call(signer, 'DescribeKey', { KeyId: key.keyId })).KeyMetadata;
    const state = described.KeyState;
    if (state !== 'Enabled') {
      const refusal = keyStateRefusal(key.keyId, state, described.DeleteDate || undefined);
      add({ Code: refusal.code, Message: refusal.message });
    }
    if (described.KeyUsage !== 'SIGN/VERIFY') add({ Code: 'InvalidParameter', Message: `KeyId: key ${key.keyId} has usage ${described.KeyUsage}; signing requests are signed by SIGN/VERIFY keys` });
    const material = getVersion(vault.store.db, key.keyId, key.keyVersionId)?.material;
    if (material === 'PublicOnly') add({ Code: 'Rejected.PublicKeyOnly', Message: `key version ${key.keyVersionId} of key ${key.keyId} holds only a public key: it cannot sign` });
    if (material === 'Deleted') add({ Code: 'Rejected.PendingImport', Message: `the key material of key ${key.keyId} was deleted (DeleteKeyMaterial): it cannot sign` });
    const pinned = request.PublicKey === undefined ? undefined : request.PublicKey === encodeBase64(key.spki);
    if (pinned === false) {
      add({
        Code: 'Request.Mismatch',
        Message: `the request pins another public key (SHA-256 ${sha256Hex(decodeBase64(request.PublicKey, 'PublicKey'))}) than key ${key.keyId} version ${key.keyVersionId} (SHA-256 ${sha256Hex(key.spki)})`,
      });
    }
    let formatFingerprint: string | undefined;
    if (request.Format === 'csr') {
      const certificates = (await call(signer, 'GetCertificates', { KeyId: key.keyId, KeyVersionId: key.keyVersionId })).Certificates;
      if (certificates.length === 0) {
        add({ Code: 'InvalidParameter', Message: `KeyVersionId: CA key version ${key.keyVersionId} has no certificate attached (deskkms cert self-sign or cert attach first)` });
      }
    } else {
      const format = signatureFormat(request.Format);
      const reason = format.unsupported(key.spec);
      if (reason !== undefined) {
        add({ Code: 'Format.UnsupportedKeySpec', Message: `${request.Format} signatures cannot be made with a ${key.spec} key: ${reason}` });
      } else {
        if (request.Format === 'ssh') formatFingerprint = sshFingerprint(key.spki);
        if (request.Format === 'openpgp') formatFingerprint = openpgpFingerprint(key);
        if (request.Format === 'sigstore') formatFingerprint = sigstoreKeyHint(key.spki);
        // complete() without AsymmetricSign: a preparation this key cannot sign shows here, before anything is signed.
        // One Problem per Code, naming the first file and how many others share it.
        const options = formatOptionsOf(request);
        const byCode = new Map<string, { first: Problem; others: number }>();
        for (const file of request.Files) {
          try {
            format.complete(key, options, file.Prepared ?? {}).toSign();
          } catch (error) {
            const p = problemOf(error);
            const seen = byCode.get(p.Code);
            if (seen) seen.others++;
            else byCode.set(p.Code, { first: { Code: p.Code, Message: `${escapeText(file.Name, 255)}: ${p.Message}` }, others: 0 });
          }
        }
        for (const { first, others } of byCode.values()) add(others === 0 ? first : { Code: first.Code, Message: `${first.Message} (and ${others} other file${others > 1 ? 's' : ''})` });
        if (request.Format === 'openpgp' && request.Options.UserId !== undefined) {
          try {
            checkUserId(request.Options.UserId, 'Options.UserId');
          } catch (error) {
            add(problemOf(error));
          }
        }
      }
    }
    keyFacts = {
      KeyId: key.keyId,
      KeyVersionId: key.keyVersionId,
      ...(key.newest ? { Newest: true } : {}),
      Aliases: aliasesOf(vault.store.db, key.keyId),
      KeySpec: key.spec,
      KeyState: state,
      ...(described.Description !== '' ? { Description: described.Description } : {}),
      SpkiSha256: sha256Hex(key.spki),
      ...(formatFingerprint !== undefined ? { FormatFingerprint: formatFingerprint } : {}),
      ...(pinned !== undefined ? { Pinned: pinned } : {}),
    };
  }
  let csr: RequestReview['Csr'];
  if (request.Format === 'csr') {
    try {
      csr = await csrReview(request);
    } catch (error) {
      add(problemOf(error));
    }
  }
  // What is signed is over the SHA-256 shown: checked for every file whose format can derive it
  // (whatever the key: a mismatch is the request's own). A preparation the format cannot read is
  // left to complete() above (its Problem names it); it is not Bound.
  const bound = request.Files.map((file) => {
    if (request.Format === 'csr') return true;
    let derived: Uint8Array | undefined;
    try {
      derived = signatureFormat(request.Format).fileSha256(file.Prepared ?? {});
    } catch (error) {
      if (error instanceof KmsError) return false;
      throw error;
    }
    if (derived === undefined) {
      // Only jws and raw over SM2 cannot be bound; any other unbound preparation is a layout only
      // signing at once makes (ssh {Sha512}, openpgp issuer-hashed): a request never carries one.
      const unbindable = request.Format === 'jws' || (request.Format === 'raw' && file.Prepared?.Sm3Za !== undefined);
      if (!unbindable) {
        add({
          Code: 'Request.Mismatch',
          Message: `${escapeText(file.Name, 255)}: its ${request.Format} preparation does not let the station check it is of the SHA-256 shown for ${escapeText(file.Name, 255)} (a layout signing requests do not use): the request was changed; nothing is signed`,
        });
      }
      return false;
    }
    if (Buffer.from(derived).toString('hex') === file.Sha256) return true;
    add({
      Code: 'Request.Mismatch',
      Message: `${escapeText(file.Name, 255)}: the digest the station would sign is not the SHA-256 shown for ${escapeText(file.Name, 255)} (its ${request.Format} preparation is of a file with SHA-256 ${Buffer.from(derived).toString('hex')}): the request was changed; nothing is signed`,
    });
    return false;
  });
  const review: RequestReview = {
    RequestId: request.RequestId,
    RequestSha256: requestSha256,
    Created: request.Created,
    AgeSeconds: Math.round((now.getTime() - Date.parse(request.Created)) / 1000),
    MaxAgeSeconds: Math.round(maxAgeMs / 1000),
    Format: request.Format,
    Options: request.Options,
    ...(request.Note !== undefined ? { Note: request.Note } : {}),
    Key: { Reference: request.Key, ...keyFacts },
    Files: request.Files.map((f, i) => ({ Name: f.Name, Size: f.Size, Sha256: f.Sha256, Bound: bound[i]! })),
    TotalSize: request.Files.reduce((sum, f) => sum + f.Size, 0),
    ...(csr ? { Csr: csr } : {}),
    Decisions: decisions,
    Problems: problems,
  };
  return { request, review, signer, ...(key ? { key } : {}) };
}

/** What the operator must see before approving (the key, the files, the note, the age), and every Problem; nothing is signed. */
export async function reviewRequest(vault: Vault, requestBytes: Uint8Array, o: StationOptions): Promise<RequestReview> {
  return (await inspect(vault, requestBytes, o)).review;
}

// ---------------------------------------------------------------------------------------------
// Approve and reject

function auditKey(key: ChosenKey | undefined): { keyId: string; keyVersionId: string } | undefined {
  return key ? { keyId: key.keyId, keyVersionId: key.keyVersionId } : undefined;
}

async function publicMaterial(signer: VaultSigner, key: ChosenKey, request: SigningRequest): Promise<SigningResponse['PublicMaterial']> {
  switch (request.Format) {
    case 'ssh':
      return { SshPublicKey: openSshPublicKey(key.spki) };
    case 'openpgp': {
      if (request.Options.UserId === undefined) return {};
      // The certificate's self-signature is dated at the version's creation, as `deskkms pubkey --format openpgp` makes it.
      const pending = beginCertificate(key, request.Options.UserId, { time: key.created });
      return { OpenPgpCertificate: new TextDecoder().decode(await completeSignature(signer, key, 'openpgp', pending)) };
    }
    case 'jws': {
      const bundle = await call(signer, 'GetPublicKeyBundle', { KeyId: key.keyId, KeyVersionId: key.keyVersionId });
      return bundle.Jwk ? { Jwk: `${JSON.stringify(bundle.Jwk)}\n` } : {};
    }
    case 'raw':
    case 'sigstore': {
      const bundle = await call(signer, 'GetPublicKeyBundle', { KeyId: key.keyId, KeyVersionId: key.keyVersionId });
      return { PublicKeyPem: bundle.PublicKeyPem };
    }
    case 'csr':
      return {};
  }
}

/** Each file's signature: complete() then the one audited AsymmetricSign ("<host>:request:<id>:<format>"). */
async function signFiles(signer: VaultSigner, key: ChosenKey, request: SigningRequest): Promise<SigningResponse['Files']> {
  const name = request.Format as SignatureFormatName;
  const format = signatureFormat(name);
  const options = formatOptionsOf(request);
  const files: SigningResponse['Files'][number][] = [];
  for (const file of request.Files) {
    const pending = format.complete(key, options, file.Prepared ?? {});
    const { algorithm, digest } = pending.toSign();
    const signed = await call(signer, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm: algorithm, Digest: encodeBase64(digest) }, name);
    const signature = pending.finish(decodeBase64(signed.Value, 'Value'));
    files.push({ Name: file.Name, Sha256: file.Sha256, Signature: encodeBase64(signature) });
  }
  return files;
}

/** csr: IssueCertificate by the request's key as the CA (audited "<host>:request:<id>:csr"). */
async function issueFromCsr(signer: VaultSigner, key: ChosenKey, request: SigningRequest): Promise<{ files: SigningResponse['Files']; chain: string }> {
  const o = request.Options;
  const issued = await call(
    signer,
    'IssueCertificate',
    {
      KeyId: key.keyId,
      KeyVersionId: key.keyVersionId,
      Csr: request.Csr ?? '',
      ValidityDays: o.ValidityDays ?? DEFAULT_VALIDITY_DAYS,
      Policy: o.Policy ?? 'copy-requested-extensions',
      IsCa: o.IsCa === true,
      ...(o.PathLen !== undefined ? { PathLen: o.PathLen } : {}),
    },
    'csr',
  );
  const leaf = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(issued.Certificate)?.[1];
  if (leaf === undefined) throw new KmsError('InternalFailure', 'IssueCertificate answered no PEM certificate');
  const file = request.Files[0]!;
  return { files: [{ Name: file.Name, Sha256: file.Sha256, Signature: leaf.replace(/\s+/g, '') }], chain: issued.CertificateChain };
}

/**
 * Signs the request when it has no Problem (and, given `reviewedSha256`, when it is exactly the
 * request the operator reviewed; given `reviewedKeyVersionId`, only with the key version the review
 * showed, null when it showed none: Request.Mismatch, nothing signed, when it would now be another):
 * the response and its bytes. A Problem is recorded as a refused
 * ApproveSigningRequest (its Code) and thrown; nothing is signed then.
 */
export async function approveRequest(
  vault: Vault,
  requestBytes: Uint8Array,
  o: StationOptions & { readonly reviewedSha256?: string; readonly reviewedKeyVersionId?: string | null },
): Promise<{ response: SigningResponse; bytes: Uint8Array; review: RequestReview }> {
  const { request, review, signer, key } = await inspect(vault, requestBytes, o);
  const refuse = async (problem: Problem): Promise<never> => {
    const code: ErrorCode = isErrorCode(problem.Code) ? problem.Code : 'InternalFailure';
    await recordEvent(vault, APPROVE_EVENT, code, signer.caller, auditKey(key));
    throw new KmsError(code, problem.Message);
  };
  if (o.reviewedSha256 !== undefined && o.reviewedSha256 !== review.RequestSha256) {
    await refuse({ Code: 'Request.Mismatch', Message: `the request (SHA-256 ${review.RequestSha256}) is not the one reviewed (SHA-256 ${escapeText(o.reviewedSha256, 64)}): review it again` });
  }
  // The version the operator saw: a request naming no version takes the newest at each inspect, so a
  // version created (or a pin matched otherwise) between the review and now would sign unseen.
  // null: the review showed no version (the key did not resolve then).
  if (o.reviewedKeyVersionId !== undefined && (o.reviewedKeyVersionId ?? undefined) !== key?.keyVersionId) {
    await refuse({
      Code: 'Request.Mismatch',
      Message: `the key version that would sign (${key?.keyVersionId ?? 'none'}) is not the one reviewed (${o.reviewedKeyVersionId === null ? 'none' : escapeText(o.reviewedKeyVersionId, 64)}): the key changed since the review; review it again`,
    });
  }
  if (review.Problems.length > 0) await refuse(review.Problems[0]!);
  if (!key) throw new KmsError('InternalFailure', 'a request without Problems has its key');
  let files: SigningResponse['Files'];
  let material: SigningResponse['PublicMaterial'];
  try {
    if (request.Format === 'csr') {
      const issued = await issueFromCsr(signer, key, request);
      files = issued.files;
      material = { CertificateChain: issued.chain };
    } else {
      files = await signFiles(signer, key, request);
      material = await publicMaterial(signer, key, request);
    }
  } catch (error) {
    if (error instanceof KmsError) await refuse({ Code: error.code, Message: error.message });
    throw error;
  }
  const response: SigningResponse = {
    Type: RESPONSE_TYPE,
    Version: REQUEST_VERSION,
    RequestId: request.RequestId,
    RequestSha256: review.RequestSha256,
    Approved: isoSeconds(o.now ?? vault.now()),
    Format: request.Format,
    KeyId: key.keyId,
    KeyVersionId: key.keyVersionId,
    KeySpec: key.spec,
    PublicKey: encodeBase64(key.spki),
    PublicMaterial: material,
    Files: files,
  };
  const bytes = encodeResponse(response);
  await recordEvent(vault, APPROVE_EVENT, 'OK', signer.caller, auditKey(key));
  return { response, bytes, review };
}

/** The operator said no: recorded as RejectSigningRequest (Request.Rejected); nothing is signed. */
export async function rejectRequest(vault: Vault, requestBytes: Uint8Array, o: StationOptions): Promise<RequestReview> {
  const { review, signer, key } = await inspect(vault, requestBytes, o);
  await recordEvent(vault, REJECT_EVENT, 'Request.Rejected', signer.caller, auditKey(key));
  return review;
}

// X.509 certificates (core/x509/certificate.ts) checked against the OpenSSL 3 command line: roots
// of every CA spec/algorithm verify leaves of every spec with `openssl verify`, the extensions show
// in `openssl x509 -text`, bad requests are refused.
// Note: `openssl verify` exits 2 on a failed chain (unlike `req -verify`, which exits 0), but each
// check below still asserts on the printed "<file>: OK" line as well as the status.
// SM2: OpenSSL 3.0 verifies an SM2-with-SM3 signature with an empty distinguishing ID unless
// `-vfyopt distid:1234567812345678` is given; the test shows it fails without it.
import { afterAll, describe, expect, it } from 'vitest';
import { SM2_DEFAULT_ID, type KeySpec, type SigningAlgorithm } from '../../core/contract/specs.ts';
import { generateKey, signDigest, type PrivateKey } from '../../core/crypto/engine.ts';
import { buildCsr, type CsrRequest } from '../../core/x509/csr.ts';
import {
  certificatePem,
  issueCertificate,
  parseCertificate,
  selfSignCertificate,
  subjectKeyIdentifier,
  type IssueOptions,
} from '../../core/x509/certificate.ts';
import { TempDir, flipByte, openssl, runOpenssl } from '../interop/openssl-peer.ts';
import { rejection } from '../support/errors.ts';

interface Signer {
  spec: KeySpec;
  algorithm: SigningAlgorithm;
}

const CA_CASES: readonly Signer[] = [
  { spec: 'RSA_2048', algorithm: 'RSA_PKCS1_SHA_256' },
  { spec: 'RSA_2048', algorithm: 'RSA_PSS_SHA_256' },
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' },
  { spec: 'EC_SM2', algorithm: 'SM2DSA' },
];
const LEAF_CASES: readonly Signer[] = [
  { spec: 'RSA_2048', algorithm: 'RSA_PSS_SHA_256' },
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' },
  { spec: 'EC_SM2', algorithm: 'SM2DSA' },
];

const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2035-01-01T00:00:00Z');
const LEAF_OPTIONS: IssueOptions = { notBefore: NOT_BEFORE, notAfter: new Date('2027-01-01T00:00:00Z'), policy: 'copy-requested-extensions' };

const LEAF_REQUEST: CsrRequest = {
  subject: 'CN=leaf.example.com,O=Example\\, Inc.,C=CN',
  sans: ['DNS:leaf.example.com', 'DNS:*.leaf.example.com', 'IP:192.0.2.7', 'IP:2001:db8::1', 'email:ops@example.com', 'URI:https://example.com/x'],
  keyUsage: ['digitalSignature', 'keyCertSign'],
  extKeyUsage: ['serverAuth', 'clientAuth'],
  // Requested, but never copied unless IssueOptions.ca is given.
  basicConstraints: { ca: true, pathLen: 3 },
};

const tmp = new TempDir('deskkms-cert-');
afterAll(() => tmp.remove());

const keys = new Map<string, Promise<PrivateKey>>();
function keyFor(spec: KeySpec, slot = 'default'): Promise<PrivateKey> {
  const id = `${spec}/${slot}`;
  let key = keys.get(id);
  if (!key) {
    key = generateKey(spec);
    keys.set(id, key);
  }
  return key;
}

function signerOf(key: PrivateKey, algorithm: SigningAlgorithm): (d: Uint8Array) => Promise<Uint8Array> {
  return (d) => Promise.resolve(signDigest(key, algorithm, d));
}

async function makeRoot({ spec, algorithm }: Signer, options: { pathLen?: number; notBefore?: Date; notAfter?: Date } = {}) {
  const key = await keyFor(spec, 'ca');
  const ca = { spec, spki: key.publicKey.spki, algorithm };
  const certificate = await selfSignCertificate(
    { subject: `CN=DeskKMS Root ${spec} ${algorithm},O=DeskKMS,C=CN`, notBefore: options.notBefore ?? NOT_BEFORE, notAfter: options.notAfter ?? NOT_AFTER, pathLen: options.pathLen ?? 1 },
    ca,
    signerOf(key, algorithm),
  );
  return { ...ca, certificate, key, sign: signerOf(key, algorithm) };
}

async function makeCsr({ spec, algorithm }: Signer, request: CsrRequest = LEAF_REQUEST, slot = 'leaf'): Promise<Uint8Array> {
  const key = await keyFor(spec, slot);
  return buildCsr(request, { spec, spki: key.publicKey.spki, algorithm }, signerOf(key, algorithm));
}

function vfyopt(algorithm: SigningAlgorithm): string[] {
  return algorithm === 'SM2DSA' ? ['-vfyopt', `distid:${SM2_DEFAULT_ID}`] : [];
}

/** `openssl verify`: true only when it exits 0 and prints "<leaf>: OK". */
function opensslVerifies(rootFile: string, leafFile: string, options: readonly string[] = []): boolean {
  const r = runOpenssl(['verify', ...options, '-CAfile', rootFile, leafFile]);
  const stdout = r.stdout.toString('utf8');
  const ok = stdout.includes(`${leafFile}: OK\n`);
  expect(r.status === 0).toBe(ok);
  if (!ok) expect(`${stdout}${r.stderr}`).toMatch(/verification failed|error \d+ at/);
  return ok;
}

/** `openssl dgst -sm3 -verify` of a self-signed certificate's signature over its extracted TBSCertificate. */
function dgstVerifiesSelfSignature(certFile: string, options: readonly string[]): boolean {
  const lines = openssl(['asn1parse', '-in', certFile]).toString('utf8').trim().split('\n');
  const signatureOffset = /^\s*(\d+):/.exec(lines.at(-1)!)![1]!;
  const tbs = tmp.path('tbs.der');
  const signature = tmp.path('sig.der');
  const pub = tmp.path('pub.pem');
  openssl(['asn1parse', '-in', certFile, '-strparse', '4', '-noout', '-out', tbs]);
  openssl(['asn1parse', '-in', certFile, '-strparse', signatureOffset, '-noout', '-out', signature]);
  openssl(['x509', '-in', certFile, '-pubkey', '-noout', '-out', pub]);
  const r = runOpenssl(['dgst', '-sm3', '-verify', pub, ...options, '-signature', signature, tbs]);
  const stdout = r.stdout.toString('utf8');
  const ok = stdout.includes('Verified OK');
  expect(r.status === 0).toBe(ok);
  if (!ok) expect(stdout).toContain('Verification failure');
  return ok;
}

function x509Text(der: Uint8Array): string {
  return openssl(['x509', '-text', '-noout', '-inform', 'DER'], { input: der }).toString('utf8');
}

function keyIdOf(text: string, heading: string): string {
  const match = new RegExp(`${heading}: *\\n *(?:keyid:)?([0-9A-F:]+)\\n`).exec(text);
  expect(match, heading).not.toBeNull();
  return match![1]!;
}

function hexColons(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

describe.each(CA_CASES)('root CA $spec with $algorithm', (caCase) => {
  it('is a self-signed CA (openssl -check_ss_sig) with CA:TRUE, keyCertSign|cRLSign, SKI = AKI = SHA-1 of the key', async () => {
    const root = await makeRoot(caCase);
    const rootFile = tmp.write('root.pem', certificatePem(root.certificate));
    if (caCase.algorithm === 'SM2DSA') {
      // OpenSSL 3.0.19 cannot check an SM2 root's self-signature in `verify -check_ss_sig`, even
      // with -vfyopt distid (it prints "error 7 at 0 depth lookup: certificate signature failure");
      // `openssl dgst -sm3 -sigopt distid:...` over the extracted TBSCertificate proves it instead.
      expect(opensslVerifies(rootFile, rootFile, ['-check_ss_sig', ...vfyopt(caCase.algorithm)])).toBe(false);
      expect(dgstVerifiesSelfSignature(rootFile, ['-sigopt', `distid:${SM2_DEFAULT_ID}`])).toBe(true);
      expect(dgstVerifiesSelfSignature(rootFile, [])).toBe(false);
    } else {
      expect(opensslVerifies(rootFile, rootFile, ['-check_ss_sig'])).toBe(true);
    }

    const text = x509Text(root.certificate);
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain(`Issuer: C = CN, O = DeskKMS, CN = DeskKMS Root ${caCase.spec} ${caCase.algorithm}`);
    expect(text).toContain(`Subject: C = CN, O = DeskKMS, CN = DeskKMS Root ${caCase.spec} ${caCase.algorithm}`);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n *CA:TRUE, pathlen:1\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n *Certificate Sign, CRL Sign\n/);
    const ski = hexColons(subjectKeyIdentifier(root.spki));
    expect(keyIdOf(text, 'X509v3 Subject Key Identifier')).toBe(ski);
    expect(keyIdOf(text, 'X509v3 Authority Key Identifier')).toBe(ski);
    expect(text).toContain('Not Before: Jan  1 00:00:00 2025 GMT');
    expect(text).toContain('Not After : Jan  1 00:00:00 2035 GMT');

    const parsed = parseCertificate(root.certificate);
    expect(parsed.subject).toBe(`CN=DeskKMS Root ${caCase.spec} ${caCase.algorithm},O=DeskKMS,C=CN`);
    expect(parsed.issuer).toBe(parsed.subject);
    expect(parsed.spki).toEqual(root.spki);
    expect(parsed.notBefore).toEqual(NOT_BEFORE);
    expect(parsed.notAfter).toEqual(NOT_AFTER);
  });

  it.each(LEAF_CASES)('issues a verifying leaf for a $spec CSR', async (leafCase) => {
    const root = await makeRoot(caCase);
    const leaf = await issueCertificate(await makeCsr(leafCase), root, LEAF_OPTIONS, root.sign);
    const rootFile = tmp.write('root.pem', certificatePem(root.certificate));
    const leafFile = tmp.write('leaf.pem', certificatePem(leaf));
    expect(opensslVerifies(rootFile, leafFile, vfyopt(caCase.algorithm))).toBe(true);

    const text = x509Text(leaf);
    expect(text).toContain(`Issuer: C = CN, O = DeskKMS, CN = DeskKMS Root ${caCase.spec} ${caCase.algorithm}`);
    expect(text).toContain('Subject: C = CN, O = "Example, Inc.", CN = leaf.example.com');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n *CA:FALSE\n/);
    // keyCertSign was requested but is dropped from a non-CA certificate.
    expect(text).toMatch(/X509v3 Key Usage: critical\n *Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: *\n *TLS Web Server Authentication, TLS Web Client Authentication\n/);
    expect(text).toMatch(
      /X509v3 Subject Alternative Name: *\n *DNS:leaf.example.com, DNS:\*.leaf.example.com, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1, email:ops@example.com, URI:https:\/\/example.com\/x\n/,
    );
    const leafKey = await keyFor(leafCase.spec, 'leaf');
    expect(keyIdOf(text, 'X509v3 Subject Key Identifier')).toBe(hexColons(subjectKeyIdentifier(leafKey.publicKey.spki)));
    expect(keyIdOf(text, 'X509v3 Authority Key Identifier')).toBe(hexColons(subjectKeyIdentifier(root.spki)));

    const parsed = parseCertificate(leaf);
    expect(parsed.subject).toBe('CN=leaf.example.com,O=Example\\, Inc.,C=CN');
    expect(parsed.issuer).toBe(parseCertificate(root.certificate).subject);
    expect(parsed.spki).toEqual(leafKey.publicKey.spki);

    // A flipped signature byte fails the chain.
    const bad = tmp.write('bad.pem', certificatePem(flipByte(leaf, -1)));
    expect(opensslVerifies(rootFile, bad, vfyopt(caCase.algorithm))).toBe(false);
  });
});

describe('openssl verify traps', () => {
  it('does not check a trust anchor\'s own signature unless -check_ss_sig is given', async () => {
    const root = await makeRoot({ spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' });
    const broken = tmp.write('broken-root.pem', certificatePem(flipByte(root.certificate, -1)));
    expect(opensslVerifies(broken, broken)).toBe(true);
    expect(opensslVerifies(broken, broken, ['-check_ss_sig'])).toBe(false);
  });
});

describe('SM2 chain verification needs the distinguishing ID', () => {
  it('verifies with -vfyopt distid:1234567812345678 only', async () => {
    const root = await makeRoot({ spec: 'EC_SM2', algorithm: 'SM2DSA' });
    const leaf = await issueCertificate(await makeCsr({ spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' }), root, LEAF_OPTIONS, root.sign);
    const rootFile = tmp.write('sm2-root.pem', certificatePem(root.certificate));
    const leafFile = tmp.write('sm2-leaf.pem', certificatePem(leaf));
    expect(opensslVerifies(rootFile, leafFile, ['-vfyopt', 'distid:1234567812345678'])).toBe(true);

    const without = runOpenssl(['verify', '-CAfile', rootFile, leafFile]);
    expect(without.status).toBe(2);
    expect(without.stdout.toString('utf8')).not.toContain(': OK');
    expect(`${without.stdout.toString('utf8')}${without.stderr}`).toContain('error 7 at 0 depth lookup: certificate signature failure');
    expect(opensslVerifies(rootFile, leafFile, ['-vfyopt', 'distid:1234567812345679'])).toBe(false);
  });
});

describe('issueCertificate policies', () => {
  const ec: Signer = { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' };

  it('leaf-defaults copies only the SANs and sets digitalSignature, serverAuth+clientAuth, CA:FALSE', async () => {
    const root = await makeRoot(ec);
    const csr = await makeCsr(ec, { ...LEAF_REQUEST, extKeyUsage: ['codeSigning'], keyUsage: ['nonRepudiation'] });
    const text = x509Text(await issueCertificate(csr, root, { ...LEAF_OPTIONS, policy: 'leaf-defaults' }, root.sign));
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n *CA:FALSE\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n *Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: *\n *TLS Web Server Authentication, TLS Web Client Authentication\n/);
    expect(text).toContain('DNS:leaf.example.com, DNS:*.leaf.example.com');
    expect(text).not.toContain('Code Signing');
  });

  it('options.ca gives an intermediate CA (pathlen) that can itself issue a verifying leaf', async () => {
    const root = await makeRoot(ec);
    const interKey = await keyFor('EC_P256', 'intermediate');
    const interCsr = await buildCsr({ subject: 'CN=Intermediate' }, { spec: 'EC_P256', spki: interKey.publicKey.spki, algorithm: 'ECDSA_SHA_256' }, signerOf(interKey, 'ECDSA_SHA_256'));
    const inter = await issueCertificate(interCsr, root, { ...LEAF_OPTIONS, policy: 'leaf-defaults', ca: { pathLen: 0 } }, root.sign);
    const text = x509Text(inter);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n *CA:TRUE, pathlen:0\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n *Digital Signature, Certificate Sign, CRL Sign\n/);
    expect(text).not.toContain('Extended Key Usage');

    const interCa = { certificate: inter, spec: 'EC_P256' as const, spki: interKey.publicKey.spki, algorithm: 'ECDSA_SHA_256' as const };
    const leaf = await issueCertificate(await makeCsr(ec), interCa, LEAF_OPTIONS, signerOf(interKey, 'ECDSA_SHA_256'));
    const rootFile = tmp.write('root.pem', certificatePem(root.certificate));
    const interFile = tmp.write('inter.pem', certificatePem(inter));
    const leafFile = tmp.write('leaf.pem', certificatePem(leaf));
    expect(opensslVerifies(rootFile, leafFile, ['-untrusted', interFile])).toBe(true);
    // Without the intermediate the chain does not build.
    expect(opensslVerifies(rootFile, leafFile)).toBe(false);
  });

  it('refuses a CSR whose signature does not verify, or whose signed info was altered', async () => {
    const root = await makeRoot(ec);
    const csr = await makeCsr(ec);
    let error = await rejection(issueCertificate(flipByte(csr, -1), root, LEAF_OPTIONS, root.sign));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toBe('Csr: signature does not verify with the requested public key');
    // Flip a byte of the subject's CN text ("leaf.example.com").
    const at = Buffer.from(csr).indexOf('leaf.example.com');
    error = await rejection(issueCertificate(flipByte(csr, at), root, LEAF_OPTIONS, root.sign));
    expect(error.message).toBe('Csr: signature does not verify with the requested public key');
    error = await rejection(issueCertificate(Uint8Array.of(...csr, 0), root, LEAF_OPTIONS, root.sign));
    expect(error.message).toBe('Csr: is not a DER-encoded PKCS#10 CertificationRequest');
  });

  it('refuses a CA whose key does not match its certificate, a non-CA certificate, a wrong signer, a bad policy or validity', async () => {
    const root = await makeRoot(ec);
    const csr = await makeCsr(ec);
    const other = await keyFor('EC_P256', 'other');
    let error = await rejection(issueCertificate(csr, { ...root, spki: other.publicKey.spki }, LEAF_OPTIONS, signerOf(other, 'ECDSA_SHA_256')));
    expect(error.message).toBe('CaCertificate: does not certify the CA public key');
    const leaf = await issueCertificate(csr, root, LEAF_OPTIONS, root.sign);
    const leafKey = await keyFor('EC_P256', 'leaf');
    error = await rejection(issueCertificate(csr, { ...root, certificate: leaf, spki: leafKey.publicKey.spki }, LEAF_OPTIONS, signerOf(leafKey, 'ECDSA_SHA_256')));
    expect(error.message).toBe('CaCertificate: is not a CA certificate (basicConstraints CA:TRUE)');
    error = await rejection(issueCertificate(csr, root, LEAF_OPTIONS, signerOf(other, 'ECDSA_SHA_256')));
    expect(error.code).toBe('InternalFailure');
    error = await rejection(issueCertificate(csr, root, { ...LEAF_OPTIONS, policy: 'copy-all' as never }, root.sign));
    expect(error.message).toBe('Policy: copy-all is not valid; valid: copy-requested-extensions, leaf-defaults');
    error = await rejection(issueCertificate(csr, root, { ...LEAF_OPTIONS, notAfter: NOT_BEFORE }, root.sign));
    expect(error.message).toBe('NotAfter: must be later than NotBefore');
  });
});

describe('serial numbers and times', () => {
  it('serials are 16 bytes, positive, non-zero and unique across 100 certificates', async () => {
    const ec: Signer = { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' };
    const root = await makeRoot(ec);
    const csr = await makeCsr(ec);
    const serials = new Set<string>();
    for (let i = 0; i < 100; i += 1) {
      const { serialHex } = parseCertificate(await issueCertificate(csr, root, LEAF_OPTIONS, root.sign));
      expect(serialHex).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(serialHex.slice(0, 2)).not.toBe('00');
      serials.add(serialHex);
    }
    expect(serials.size).toBe(100);
    const printed = openssl(['x509', '-serial', '-noout', '-inform', 'DER'], { input: root.certificate }).toString('utf8');
    expect(printed.trim()).toBe(`serial=${parseCertificate(root.certificate).serialHex.toUpperCase()}`);
  });

  it('uses UTCTime through 2049 and GeneralizedTime from 2050, whole seconds only', async () => {
    const ec: Signer = { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' };
    const timesOf = (der: Uint8Array): string[] =>
      openssl(['asn1parse', '-inform', 'DER'], { input: der })
        .toString('utf8')
        .split('\n')
        .filter((l) => /TIME/.test(l))
        .map((l) => l.replace(/^.*prim: /, '').replace(/\s+/g, ' ').trim());
    const last = await makeRoot(ec, { notBefore: new Date('2049-12-31T23:59:58.750Z'), notAfter: new Date('2049-12-31T23:59:59Z') });
    expect(timesOf(last.certificate)).toEqual(['UTCTIME :491231235958Z', 'UTCTIME :491231235959Z']);
    const first = await makeRoot(ec, { notBefore: new Date('2049-12-31T23:59:59Z'), notAfter: new Date('2050-01-01T00:00:00Z') });
    expect(timesOf(first.certificate)).toEqual(['UTCTIME :491231235959Z', 'GENERALIZEDTIME :20500101000000Z']);
    expect(parseCertificate(first.certificate).notAfter).toEqual(new Date('2050-01-01T00:00:00Z'));
    const old = await makeRoot(ec, { notBefore: new Date('1949-12-31T23:59:59Z'), notAfter: new Date('1950-01-01T00:00:00Z') });
    expect(timesOf(old.certificate)).toEqual(['GENERALIZEDTIME :19491231235959Z', 'UTCTIME :500101000000Z']);
    expect(x509Text(first.certificate)).toContain('Not After : Jan  1 00:00:00 2050 GMT');
  });
});

describe('parseCertificate', () => {
  it('refuses trailing bytes, non-DER and garbage', async () => {
    const root = await makeRoot({ spec: 'EC_P256', algorithm: 'ECDSA_SHA_256' });
    expect(() => parseCertificate(Uint8Array.of(...root.certificate, 0))).toThrow('Certificate: is not a DER-encoded X.509 certificate');
    expect(() => parseCertificate(Uint8Array.of(1, 2, 3))).toThrow('Certificate: is not a DER-encoded X.509 certificate');
    // The same certificate with a non-minimal (BER) length on the outer SEQUENCE.
    const der = root.certificate;
    expect(der[1]).toBe(0x82);
    const ber = Uint8Array.of(0x30, 0x83, 0x00, der[2]!, der[3]!, ...der.subarray(4));
    expect(() => parseCertificate(ber)).toThrow('Certificate: is not a DER-encoded X.509 certificate');
    expect(parseCertificate(der).serialHex).toHaveLength(32);
  });
});

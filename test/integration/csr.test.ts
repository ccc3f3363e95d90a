// PKCS#10 CSRs (core/x509/csr.ts) checked against the OpenSSL 3 command line: every SIGN/VERIFY
// spec and algorithm verifies with `openssl req -verify`, the requested subject, SANs and
// extensions show in `openssl req -text`, and bad input is refused with exact messages.
// Note: OpenSSL 3.0's `req -verify` exits 0 even when the signature is bad; only its stderr
// ("verify OK" / "verify failure") tells, so every check below reads both.
import { afterAll, describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { KEY_SPEC_TABLE, ASYMMETRIC_KEY_SPECS, SM2_DEFAULT_ID, type KeySpec, type SigningAlgorithm } from '../../core/contract/specs.ts';
import { publicKeyPem, signDigest } from '../../core/crypto/engine.ts';
import { buildCsr, csrPem, type CsrRequest } from '../../core/x509/csr.ts';
import { parseSubject } from '../../core/x509/name.ts';
import { escapeDnValue, splitDn, unescapeDnValue } from '../../core/contract/dn.ts';
import { TempDir, flipByte, openssl, runOpenssl } from '../interop/openssl-peer.ts';
import { rejection } from '../support/errors.ts';
import { keyFor } from '../support/keys.ts';

const SUBJECT = 'CN=example.com,O=Example\\, Inc.,OU=Vault Team,L=Hangzhou,ST=Zhejiang,C=CN,emailAddress=ca@example.com,serialNumber=42';

const REQUEST: CsrRequest = {
  subject: SUBJECT,
  sans: ['DNS:example.com', 'DNS:*.example.com', 'IP:192.0.2.7', 'IP:2001:db8::1', 'email:ca@example.com', 'URI:https://example.com/ca'],
  keyUsage: ['digitalSignature', 'nonRepudiation', 'keyCertSign', 'cRLSign'],
  extKeyUsage: ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping', 'OCSPSigning', '1.3.6.1.4.1.99999.1'],
  basicConstraints: { ca: true, pathLen: 1 },
};

/** The `openssl req -text` name of each contract algorithm's signature algorithm. */
const OPENSSL_SIGNATURE_NAME: Readonly<Record<SigningAlgorithm, string>> = {
  RSA_PKCS1_SHA_256: 'sha256WithRSAEncryption',
  RSA_PSS_SHA_256: 'rsassaPss',
  ECDSA_SHA_256: 'ecdsa-with-SHA256',
  SM2DSA: 'SM2-with-SM3',
};

/** OpenSSL 3.0: `-vfyopt` passes the ID to the verifier (`-sigopt` is for signing and is ignored by -verify). */
function verifyOptions(algorithm: SigningAlgorithm): string[] {
  return algorithm === 'SM2DSA' ? ['-vfyopt', `distid:${SM2_DEFAULT_ID}`] : [];
}

const tmp = new TempDir('deskkms-csr-');
afterAll(() => tmp.remove());


async function makeCsr(spec: KeySpec, algorithm: SigningAlgorithm, request: CsrRequest = REQUEST): Promise<Uint8Array> {
  const key = await keyFor(spec);
  return buildCsr(request, { spec, spki: key.publicKey.spki, algorithm }, (d) => Promise.resolve(signDigest(key, algorithm, d)));
}

/** `openssl req -verify -noout`: true on "verify OK", false on "verify failure" (both exit 0 in OpenSSL 3.0). */
function opensslVerifies(file: string, options: readonly string[]): boolean {
  const r = runOpenssl(['req', '-verify', '-noout', '-in', file, ...options]);
  if (/verify OK/.test(r.stderr)) {
    expect(r.status).toBe(0);
    return true;
  }
  expect(r.stderr).toMatch(/verify failure|unable to|error/i);
  return false;
}

const CASES = ASYMMETRIC_KEY_SPECS.flatMap((spec) =>
  (KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'] as readonly SigningAlgorithm[]).map((algorithm) => ({ spec, algorithm })),
);

describe('buildCsr against openssl req', () => {
  it('covers every SIGN/VERIFY spec and algorithm', () => {
    expect(CASES.map((c) => `${c.spec}/${c.algorithm}`)).toEqual([
      'RSA_2048/RSA_PSS_SHA_256', 'RSA_2048/RSA_PKCS1_SHA_256',
      'RSA_3072/RSA_PSS_SHA_256', 'RSA_3072/RSA_PKCS1_SHA_256',
      'RSA_4096/RSA_PSS_SHA_256', 'RSA_4096/RSA_PKCS1_SHA_256',
      'EC_P256/ECDSA_SHA_256', 'EC_P256K/ECDSA_SHA_256', 'EC_SM2/SM2DSA',
    ]);
  });

  describe.each(CASES)('$spec with $algorithm', ({ spec, algorithm }) => {
    it('verifies, shows the request, carries our public key, and fails once a signature byte is flipped', async () => {
      const der = await makeCsr(spec, algorithm);
      const file = tmp.write('csr.pem', csrPem(der));

      expect(opensslVerifies(file, verifyOptions(algorithm))).toBe(true);

      const text = openssl(['req', '-text', '-noout', '-in', file]).toString('utf8');
      expect(text).toContain('Subject: serialNumber = 42, emailAddress = ca@example.com, C = CN, ST = Zhejiang, L = Hangzhou, OU = Vault Team, O = "Example, Inc.", CN = example.com');
      expect(text).toContain('Requested Extensions:');
      expect(text).toMatch(/X509v3 Subject Alternative Name: *\n *DNS:example.com, DNS:\*.example.com, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1, email:ca@example.com, URI:https:\/\/example.com\/ca\n/);
      expect(text).toMatch(/X509v3 Key Usage: critical\n *Digital Signature, Non Repudiation, Certificate Sign, CRL Sign\n/);
      expect(text).toMatch(
        /X509v3 Extended Key Usage: *\n *TLS Web Server Authentication, TLS Web Client Authentication, Code Signing, E-mail Protection, Time Stamping, OCSP Signing, 1.3.6.1.4.1.99999.1\n/,
      );
      expect(text).toMatch(/X509v3 Basic Constraints: critical\n *CA:TRUE, pathlen:1\n/);
      expect(text).toContain(`Signature Algorithm: ${OPENSSL_SIGNATURE_NAME[algorithm]}`);

      // RFC 2253 output is the RFC 4514 text we asked for, escaped comma included.
      const subject = openssl(['req', '-subject', '-noout', '-nameopt', 'RFC2253', '-in', file]).toString('utf8');
      expect(subject.trim()).toBe(`subject=${SUBJECT}`);

      const pubkey = openssl(['req', '-pubkey', '-noout', '-in', file]).toString('utf8');
      expect(pubkey).toBe(publicKeyPem((await keyFor(spec)).publicKey));

      const flipped = tmp.write('flipped.pem', csrPem(flipByte(der, -1)));
      expect(opensslVerifies(flipped, verifyOptions(algorithm))).toBe(false);
    });
  });

  it('SM2: verifies only with the distinguishing ID 1234567812345678', async () => {
    const file = tmp.write('sm2.pem', csrPem(await makeCsr('EC_SM2', 'SM2DSA')));
    expect(opensslVerifies(file, ['-vfyopt', 'distid:1234567812345678'])).toBe(true);
    // Without an ID, OpenSSL uses an empty one; -sigopt does not reach the verifier; a different ID fails.
    expect(opensslVerifies(file, [])).toBe(false);
    expect(opensslVerifies(file, ['-sigopt', 'distid:1234567812345678'])).toBe(false);
    expect(opensslVerifies(file, ['-vfyopt', 'distid:1234567812345679'])).toBe(false);
  });

  it('RSA-PSS: the signature AlgorithmIdentifier carries sha256, mgf1 with sha256 and salt length 32', async () => {
    const der = await makeCsr('RSA_2048', 'RSA_PSS_SHA_256');
    const parsed = openssl(['asn1parse', '-inform', 'DER'], { input: der }).toString('utf8');
    const tail = parsed.slice(parsed.lastIndexOf(':rsassaPss'));
    expect(tail).toMatch(/:rsassaPss\n.*cons: SEQUENCE\s*\n.*cont \[ 0 \]\s*\n.*SEQUENCE\s*\n.*OBJECT\s*:sha256\n/);
    expect(tail).toMatch(/cont \[ 1 \]\s*\n.*SEQUENCE\s*\n.*OBJECT\s*:mgf1\n.*SEQUENCE\s*\n.*OBJECT\s*:sha256\n/);
    expect(tail).toMatch(/cont \[ 2 \]\s*\n.*INTEGER\s*:20\n/);
    const text = openssl(['req', '-text', '-noout', '-inform', 'DER'], { input: der }).toString('utf8');
    expect(text).toMatch(/Hash Algorithm: sha256\n *Mask Algorithm: mgf1 with sha256\n *Salt Length: 0x20\n/);
  });

  it('PKCS#1 v1.5 signature AlgorithmIdentifier has NULL parameters; ECDSA and SM2 have none', async () => {
    const tail = async (spec: KeySpec, algorithm: SigningAlgorithm): Promise<string[]> => {
      const der = await makeCsr(spec, algorithm);
      const lines = openssl(['asn1parse', '-inform', 'DER'], { input: der }).toString('utf8').trim().split('\n');
      // The last three lines: the AlgorithmIdentifier's content, then the signature BIT STRING.
      return lines.slice(-3).map((line) => line.replace(/^.*(prim|cons): /, '').trim());
    };
    expect(await tail('RSA_2048', 'RSA_PKCS1_SHA_256')).toEqual(['OBJECT            :sha256WithRSAEncryption', 'NULL', 'BIT STRING']);
    expect((await tail('EC_P256', 'ECDSA_SHA_256')).slice(1)).toEqual(['OBJECT            :ecdsa-with-SHA256', 'BIT STRING']);
    expect((await tail('EC_SM2', 'SM2DSA')).slice(1)).toEqual(['OBJECT            :SM2-with-SM3', 'BIT STRING']);
    const parsed = AsnConvert.parse(await makeCsr('EC_SM2', 'SM2DSA'), CertificationRequest);
    expect(parsed.signatureAlgorithm.algorithm).toBe('1.2.156.10197.1.501');
  });

  it('a minimal request (subject only) has no extensionRequest and verifies; ca:false encodes as CA:FALSE', async () => {
    const plain = tmp.write('plain.pem', csrPem(await makeCsr('EC_P256', 'ECDSA_SHA_256', { subject: 'CN=plain' })));
    expect(opensslVerifies(plain, [])).toBe(true);
    const text = openssl(['req', '-text', '-noout', '-in', plain]).toString('utf8');
    // OpenSSL 3.0 prints an empty "Requested Extensions:" heading even for its own extension-less CSRs.
    expect(text).toMatch(/Attributes:\n *\(none\)\n/);
    expect(text).not.toContain('X509v3');
    expect(text).toContain('Subject: CN = plain');

    const leaf = tmp.write('leaf.pem', csrPem(await makeCsr('EC_P256', 'ECDSA_SHA_256', { subject: 'CN=leaf', basicConstraints: { ca: false } })));
    expect(opensslVerifies(leaf, [])).toBe(true);
    expect(openssl(['req', '-text', '-noout', '-in', leaf]).toString('utf8')).toMatch(/X509v3 Basic Constraints: critical\n *CA:FALSE\n/);
  });

  it('an IPv4-mapped IPv6 SAN is encoded as 16 bytes', async () => {
    const file = tmp.write('v6.pem', csrPem(await makeCsr('EC_P256', 'ECDSA_SHA_256', { subject: 'CN=v6', sans: ['IP:::ffff:192.0.2.1', 'IP:fe80::1'] })));
    expect(openssl(['req', '-text', '-noout', '-in', file]).toString('utf8')).toContain('IP Address:0:0:0:0:0:FFFF:C000:201, IP Address:FE80:0:0:0:0:0:0:1');
  });
});

describe('RFC 4514 text against openssl req -subject -nameopt RFC2253', () => {
  // Values that need escaping, each written by the one escaper (core/contract/dn.ts), encoded in a
  // real CSR, printed by OpenSSL in RFC 2253 form, and read back by the one parser.
  const VALUES: readonly [attribute: string, value: string][] = [
    ['CN', ' leading and trailing '],
    ['O', ' '],
    ['OU', '#hash, plus+ "quote" back\\slash <angle> semi; eq='],
    ['L', 'Zürich 中文 🔑'],
    ['ST', 'tail '],
  ];

  it('OpenSSL reads every value as written, and its RFC 2253 text parses back to the same values', async () => {
    const subject = VALUES.map(([a, v]) => `${a}=${escapeDnValue(v)}`).join(',');
    const file = tmp.write('dn.pem', csrPem(await makeCsr('EC_P256', 'ECDSA_SHA_256', { subject })));
    const printed = openssl(['req', '-subject', '-noout', '-nameopt', 'RFC2253', '-in', file]).toString('utf8').replace(/\n$/, '').replace(/^subject=/, ''); // no trim: a trailing '\ ' is part of the text
    const read = splitDn(printed).map((pair) => [pair.type, unescapeDnValue(pair.value, pair.type)]);
    expect(read).toEqual(VALUES.map(([a, v]) => [a, v]));
    // And OpenSSL's own multi-line view shows the raw values (spaces kept) in order.
    const text = openssl(['req', '-subject', '-noout', '-nameopt', 'sep_multiline,utf8,sname', '-in', file]).toString('utf8');
    for (const [a, v] of VALUES) expect(text).toContain(`${a}=${v}\n`);
  });
});

describe('parseSubject', () => {
  it('encodes C as PrintableString (upper-cased), emailAddress as IA5String, serialNumber as PrintableString, the rest as UTF8String', () => {
    const name = parseSubject('cn=caf\\C3\\A9 \\+ co,O=A\\,B+OU=unit,c=cn,emailAddress=x@y.z,serialNumber=SN 1');
    // RFC 4514 order is reversed in the encoding.
    expect(name.map((rdn) => rdn.map((atv) => atv.type))).toEqual([
      ['2.5.4.5'], ['1.2.840.113549.1.9.1'], ['2.5.4.6'], ['2.5.4.10', '2.5.4.11'], ['2.5.4.3'],
    ]);
    expect(name[0]![0]!.value.printableString).toBe('SN 1');
    expect(name[1]![0]!.value.ia5String).toBe('x@y.z');
    expect(name[2]![0]!.value.printableString).toBe('CN');
    expect(name[3]![0]!.value.utf8String).toBe('A,B');
    expect(name[3]![1]!.value.utf8String).toBe('unit');
    expect(name[4]![0]!.value.utf8String).toBe('café + co');
  });

  it('keeps an escaped trailing space and trims unescaped ones', () => {
    const name = parseSubject(' CN = a\\  , O= b ');
    expect(name[1]![0]!.value.utf8String).toBe('a ');
    expect(name[0]![0]!.value.utf8String).toBe('b');
  });

  it.each([
    ['', 'Subject: is empty'],
    ['CN=x,XX=y', 'Subject: unknown attribute "XX"; supported: CN, O, OU, L, ST, C, emailAddress, serialNumber'],
    ['CN=x,SN=y', 'Subject: unknown attribute "SN"; supported: CN, O, OU, L, ST, C, emailAddress, serialNumber'],
    ['C=CHN', 'Subject: C must be a two-letter country code, got "CHN"'],
    ['C=1A', 'Subject: C must be a two-letter country code, got "1A"'],
    ['CN=', 'Subject: CN is empty'],
    ['CN=a,O=  ', 'Subject: O is empty'],
    ['CN', 'Subject: "CN" is not of the form type=value'],
    ['CN=a,,O=b', 'Subject: "" is not of the form type=value'],
    ['=a', 'Subject: has an attribute with no name'],
    ['CN=a\\', 'Subject: ends with a lone backslash'],
    ['CN=a\\q', 'Subject: CN: invalid escape \\q'],
    ['CN=a\\FF', 'Subject: CN: hex escapes do not form valid UTF-8'],
    ['CN=#0403616263', 'Subject: CN: hex-encoded (#...) values are not supported'],
    ['CN=a;b', 'Subject: CN: the character ; must be escaped with a backslash'],
    ['emailAddress=ä@example.com', 'Subject: emailAddress must be printable ASCII'],
    ['serialNumber=a_b', 'Subject: serialNumber has characters a PrintableString cannot hold'],
    [`CN=${'x'.repeat(65)}`, 'Subject: CN is longer than 64 characters'],
  ])('refuses %j', (text, message) => {
    expect(() => parseSubject(text)).toThrow(message);
    try {
      parseSubject(text);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('InvalidParameter');
      expect((error as Error).message).toBe(message);
    }
  });
});

describe('buildCsr rejections', () => {
  const refuse = async (request: CsrRequest, message: string, spec: KeySpec = 'EC_P256', algorithm: SigningAlgorithm = 'ECDSA_SHA_256') => {
    const error = await rejection(makeCsr(spec, algorithm, request));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toBe(message);
  };

  it.each([
    ['DNS:bad_name.example', 'SubjectAlternativeNames: "DNS:bad_name.example" is not a valid DNS name'],
    ['DNS:-lead.example', 'SubjectAlternativeNames: "DNS:-lead.example" is not a valid DNS name'],
    ['DNS:', 'SubjectAlternativeNames: "DNS:" is not a valid DNS name'],
    ['IP:192.0.2.256', 'SubjectAlternativeNames: "IP:192.0.2.256" is not a valid IPv4 or IPv6 address'],
    ['IP:2001:db8::g', 'SubjectAlternativeNames: "IP:2001:db8::g" is not a valid IPv4 or IPv6 address'],
    ['IP:fe80::1%eth0', 'SubjectAlternativeNames: "IP:fe80::1%eth0" is not a valid IPv4 or IPv6 address'],
    ['email:nobody', 'SubjectAlternativeNames: "email:nobody" is not a valid email address'],
    ['email:a@b@c', 'SubjectAlternativeNames: "email:a@b@c" is not a valid email address'],
    ['URI:relative/path', 'SubjectAlternativeNames: "URI:relative/path" is not a valid absolute URI'],
    ['URI:https://exa mple.com/', 'SubjectAlternativeNames: "URI:https://exa mple.com/" is not a valid absolute URI'],
    ['example.com', 'SubjectAlternativeNames: "example.com" must start with DNS:, IP:, email: or URI:'],
    ['RID:1.2.3', 'SubjectAlternativeNames: "RID:1.2.3" must start with DNS:, IP:, email: or URI:'],
  ])('refuses the SAN %j', async (san, message) => {
    await refuse({ subject: 'CN=x', sans: [san] }, message);
  });

  it('refuses unknown usages, a pathLen without CA, and a bad pathLen', async () => {
    await refuse(
      { subject: 'CN=x', keyUsage: ['digitalSignature', 'signEverything'] },
      'KeyUsage: unknown key usage "signEverything"; supported: digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign',
    );
    await refuse(
      { subject: 'CN=x', extKeyUsage: ['anything'] },
      'ExtendedKeyUsage: unknown extended key usage "anything"; supported: serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or a dotted OID',
    );
    await refuse({ subject: 'CN=x', basicConstraints: { ca: false, pathLen: 0 } }, 'BasicConstraints: pathLen is allowed only when ca is true');
    await refuse({ subject: 'CN=x', basicConstraints: { ca: true, pathLen: -1 } }, 'BasicConstraints: pathLen must be a non-negative integer');
    await refuse({ subject: 'CN=x', basicConstraints: { ca: true, pathLen: 1.5 } }, 'BasicConstraints: pathLen must be a non-negative integer');
    await refuse({ subject: 'CN=x,Q=1' }, 'Subject: unknown attribute "Q"; supported: CN, O, OU, L, ST, C, emailAddress, serialNumber');
  });

  it('refuses an algorithm the spec does not allow and an SPKI of another spec, without calling the signer', async () => {
    const key = await keyFor('EC_P256');
    let calls = 0;
    const signer = (d: Uint8Array) => {
      calls += 1;
      return Promise.resolve(signDigest(key, 'ECDSA_SHA_256', d));
    };
    let error = await rejection(buildCsr({ subject: 'CN=x' }, { spec: 'EC_P256', spki: key.publicKey.spki, algorithm: 'SM2DSA' }, signer));
    expect(error.message).toBe('Algorithm: SM2DSA is not valid for EC_P256 keys with usage SIGN/VERIFY; valid: ECDSA_SHA_256');
    error = await rejection(buildCsr({ subject: 'CN=x' }, { spec: 'EC_P256K', spki: key.publicKey.spki, algorithm: 'ECDSA_SHA_256' }, signer));
    expect(error.message).toBe('PublicKey: is a EC_P256 key, expected EC_P256K');
    error = await rejection(buildCsr({ subject: 'CN=x', sans: ['DNS:'] }, { spec: 'EC_P256', spki: key.publicKey.spki, algorithm: 'ECDSA_SHA_256' }, signer));
    expect(error.code).toBe('InvalidParameter');
    expect(calls).toBe(0);
  });
});

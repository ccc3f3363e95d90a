// bin/sigstore-kms-deskkms, cosign's KMS plugin, driven as sigstore's cliplugin client drives it
// (pkg/signature/kms/cliplugin, protocol v1): argv[1] "v1", argv[2] the PluginArgs JSON in the
// shapes of its common/interface_test.go, the message on stdin, the PluginResp JSON read from
// stdout. cosign itself cannot be installed here, so what signMessage returns is checked by the
// verifiers cosign's signatures meet: openssl, and @sigstore/verify with the signature wrapped in
// a public-key bundle as `cosign sign-blob --bundle` writes it.
// The launcher runs with a PATH whose `node` is the system's Node 20: it must start the project's.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { runSigstoreKms } from '../../core/hosts/programs/sigstore-kms.ts';
import { useActionVault } from '../support/action-vault.ts';
import { runOpenssl } from './openssl-peer.ts';

const LAUNCHER = resolve(import.meta.dirname, '../../bin/sigstore-kms-deskkms');
/** sigstore runs the plugin by name from PATH (exec.LookPath), here a symlink as npm link makes. */
const PLUGIN = 'sigstore-kms-deskkms';
const SYSTEM_NODE = '/usr/bin/node';

const v = useActionVault('cosign-plugin');
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  const passphrase = v.file('passphrase');
  writeFileSync(passphrase, 'cosign-plugin passphrase\n');
  const oldNode = v.file('old-node-bin');
  mkdirSync(oldNode);
  symlinkSync(SYSTEM_NODE, join(oldNode, 'node'));
  symlinkSync(LAUNCHER, join(oldNode, PLUGIN));
  env = { PATH: `${oldNode}:/usr/bin:/bin`, HOME: process.env.HOME, DESKKMS_VAULT: v.dir, DESKKMS_PASSPHRASE_FILE: passphrase };
  // The PATH's node really is the old one: the plugin, TypeScript run by Node 24, would not start under it.
  const version = spawnSync('node', ['--version'], { env, encoding: 'utf8' });
  expect(version.stdout).toMatch(/^v20\./);
  expect(spawnSync('sh', ['-c', `command -v ${PLUGIN}`], { env, encoding: 'utf8' }).stdout.trim()).toBe(join(oldNode, PLUGIN));
});

const DEADLINE = new Date(Date.now() + 3_600_000).toISOString();

/** initOptions as LoadSignerVerifier sends them (PackRPCOptions always sets keyVersion and remoteVerification). */
function initOptions(keyResourceID: string, extra: Record<string, unknown> = {}) {
  return {
    ctxDeadline: DEADLINE,
    protocolVersion: 'v1',
    keyResourceID,
    hashFunc: 5,
    rpcOptions: { ctxDeadline: DEADLINE, keyVersion: '', remoteVerification: false },
    ...extra,
  };
}

const rpc = (extra: Record<string, unknown> = {}) => ({ keyVersion: '', remoteVerification: false, ...extra });

interface Reply {
  status: number | null;
  json: Record<string, any>;
  stdout: string;
  stderr: string;
}

/** One plugin run, as sigstore's client makes it: argv, stdin, then stdout parsed after exit. */
function plugin(args: readonly string[], stdin: Uint8Array = new Uint8Array(0), runEnv = env): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PLUGIN, args, { env: runEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // a method that does not read stdin may exit first
    child.stdin.end(stdin);
    child.on('close', (status) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      try {
        resolvePromise({ status, json: JSON.parse(stdout) as Record<string, any>, stdout, stderr });
      } catch {
        reject(new Error(`plugin stdout is not JSON (status ${status}): ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}

function invoke(request: Record<string, unknown>, stdin?: Uint8Array, runEnv = env): Promise<Reply> {
  return plugin(['v1', JSON.stringify(request)], stdin, runEnv);
}

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();

function signRequest(keyResourceID: string, messageOptions: Record<string, unknown> = { digest: null }, rpcOptions = rpc()) {
  return {
    initOptions: initOptions(keyResourceID),
    methodName: 'signMessage',
    signMessage: { signOptions: { rpcOptions, messageOptions } },
  };
}

function verifyRequest(keyResourceID: string, signature: Uint8Array, messageOptions: Record<string, unknown> = { digest: null }, rpcOptions = rpc()) {
  return {
    initOptions: initOptions(keyResourceID),
    methodName: 'verifySignature',
    verifySignature: { signature: b64(signature), verifyOptions: { rpcOptions, messageOptions } },
  };
}

function publicKeyRequest(keyResourceID: string, rpcOptions = rpc()) {
  return { initOptions: initOptions(keyResourceID), methodName: 'publicKey', publicKey: { publicKeyOptions: { rpcOptions } } };
}

function opensslVerify(pem: string, signature: Uint8Array, message: Uint8Array): number {
  const pub = v.file('pub.pem');
  const sig = v.file('sig.der');
  const file = v.file('blob.txt');
  writeFileSync(pub, pem);
  writeFileSync(sig, signature);
  writeFileSync(file, message);
  return runOpenssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, file]).status;
}

/** The signature wrapped as `cosign sign-blob --bundle` wraps it (public-key hint, no tlog), checked by @sigstore/verify offline. */
function sigstoreAccepts(pem: string, signature: Uint8Array, message: Uint8Array): boolean {
  const spki = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  const hint = b64(sha256(spki));
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint }, tlogEntries: [] },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: b64(sha256(message)) }, signature: b64(signature) },
  });
  const trust = toTrustMaterial({ mediaType: '', certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] }, (wanted) => {
    if (wanted !== hint) throw new Error(`unknown hint ${wanted}`);
    return { publicKey: createPublicKey(pem), validFor: () => true };
  });
  try {
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle, Buffer.from(message)));
    return true;
  } catch {
    return false;
  }
}

const pemOf = (reply: Reply, method: 'publicKey' | 'createKey') => Buffer.from(reply.json[method].publicKeyPEM as string, 'base64').toString('utf8');

const blob = Buffer.from('my-data\n'.repeat(10_000));
const changed = Buffer.from(blob);
changed[4242] = changed[4242]! ^ 0x01;

const KEY_ID = '0b9d8c2e-0000-4000-8000-000000000000';

describe('sigstore-kms-deskkms (cliplugin protocol v1)', () => {
  it('answers defaultAlgorithm and supportedAlgorithms in the protocol shapes without opening any vault; a call it cannot read exits 2', async () => {
    const noVault = { ...env, DESKKMS_VAULT: v.file('no-vault-here') };
    const request = { initOptions: initOptions('alias/release'), methodName: 'defaultAlgorithm', defaultAlgorithm: {} };
    const [d, s, version, unknown] = await Promise.all([
      invoke(request, undefined, noVault),
      invoke({ initOptions: initOptions('alias/release'), methodName: 'supportedAlgorithms', supportedAlgorithms: {} }, undefined, noVault),
      plugin(['v2', JSON.stringify(request)], undefined, noVault),
      invoke({ initOptions: initOptions('alias/release'), methodName: 'cryptoSigner' }, undefined, noVault),
    ]);
    expect(d).toMatchObject({ status: 0, stdout: '{"defaultAlgorithm":{"defaultAlgorithm":"EC_P256"}}' });
    expect(s.status).toBe(0);
    expect(s.json).toEqual({ supportedAlgorithms: { supportedAlgorithms: ['EC_P256', 'RSA_2048', 'RSA_3072', 'RSA_4096'] } });
    expect(version).toMatchObject({ status: 2, stdout: '{"errorMessage":"expected protocol version: v1, got v2"}' });
    expect(unknown).toMatchObject({ status: 0, stdout: '{"errorMessage":"unsupported method: cryptoSigner"}' });
  });

  it('refuses calls it cannot read (exit 2) and bad method arguments (errorMessage, exit 0) before opening the vault (in-process)', async () => {
    const noVault = { ...env, DESKKMS_VAULT: v.file('no-vault-here-either') };
    const run = async (args: string[]) => {
      let stdout = '';
      const sink = (write: (text: string) => void) => new Writable({ write: (chunk: Buffer, _enc, done) => (write(chunk.toString('utf8')), done()) });
      const io = { stdout: sink((t) => (stdout += t)), stderr: sink(() => undefined), stdin: Readable.from([]), cwd: v.dir, env: noVault };
      const status = await runSigstoreKms(args, io);
      return { status, json: JSON.parse(stdout) as Record<string, any> };
    };
    const call = (request: Record<string, unknown>) => run(['v1', JSON.stringify(request)]);
    const cases: [Promise<{ status: number; json: Record<string, any> }>, number, string | RegExp][] = [
      [run(['v1', '{not json']), 2, /^error parsing plugin args: /],
      [run(['v1']), 2, /^error parsing plugin args: expected the protocol version and the JSON request/],
      [run(['v1', '[]']), 2, /^error parsing plugin args: request: /],
      [run(['v1', JSON.stringify({ methodName: 'defaultAlgorithm' })]), 2, /^error parsing plugin args: initOptions: /],
      [run(['v1', JSON.stringify({ initOptions: initOptions('alias/release', { protocolVersion: 'v9' }), methodName: 'defaultAlgorithm' })]), 2, 'expected protocol version: v1, got initOptions.protocolVersion v9'],
      [run(['v1', JSON.stringify({ initOptions: initOptions('alias/release', { hashFunc: 'sha256' }), methodName: 'publicKey' })]), 2, /^error parsing plugin args: initOptions\.hashFunc: /],
      [call({ initOptions: initOptions('alias/release'), methodName: '' }), 0, 'unsupported method: '],
      [call({ initOptions: initOptions('alias/release'), methodName: 'constructor' }), 0, 'unsupported method: constructor'],
      [call({ ...publicKeyRequest('alias/release'), initOptions: initOptions('alias/release', { ctxDeadline: '2020-01-01T00:00:00Z' }) }), 0, 'context deadline exceeded'],
      [call({ ...publicKeyRequest('alias/release'), initOptions: initOptions('alias/release', { ctxDeadline: 'tomorrow' }) }), 0, 'ctxDeadline "tomorrow" is not an RFC 3339 time'],
      [call(signRequest('alias/release', { digest: null }, rpc({ ctxDeadline: '2020-01-01T00:00:00.123456789Z' }))), 0, 'context deadline exceeded'],
      [call({ ...signRequest('alias/release'), initOptions: initOptions('alias/release', { hashFunc: 7 }) }), 0, 'initOptions.hashFunc 7 is not SHA-256 (crypto.SHA256 = 5): deskkms keys sign SHA-256 digests only'],
      [call(signRequest('alias/release', { digest: b64(new Uint8Array(48)) })), 0, 'signOptions.messageOptions.digest is 48 bytes; a SHA-256 digest is 32'],
      [call(signRequest('alias/release', { digest: b64(sha256(blob)), hashFunc: 6 })), 0, /^signOptions\.messageOptions\.hashFunc 6 is not SHA-256/],
      [call(publicKeyRequest('alias/bad name')), 0, /^keyResourceID "alias\/bad name" is not a valid alias/],
      [call(publicKeyRequest('')), 0, /^keyResourceID is empty/],
      [call({ ...verifyRequest('alias/release', blob), verifySignature: { signature: '!!', verifyOptions: null } }), 0, 'verifySignature.signature is not standard base64'],
      [call({ ...verifyRequest('alias/release', blob), verifySignature: { signature: null } }), 0, 'verifySignature.signature is missing or empty'],
      [call({ initOptions: initOptions(KEY_ID), methodName: 'createKey', createKey: { algorithm: 'EC_P256' } }), 0, /^createKey needs an alias key reference \(deskkms:\/\/alias\/NAME\)/],
      [call({ initOptions: initOptions('alias/k1'), methodName: 'createKey', createKey: { algorithm: 'EC_P256K' } }), 0, 'algorithm EC_P256K not supported; supported: EC_P256, RSA_2048, RSA_3072, RSA_4096'],
    ];
    for (const [reply, status, message] of cases) {
      const { status: got, json } = await reply;
      expect(Object.keys(json)).toEqual(['errorMessage']);
      expect(json.errorMessage).toMatch(message);
      expect(got, json.errorMessage as string).toBe(status);
    }
    // None of them reached for the vault (it does not exist: opening it would have said so).
  });

  it('createKey makes an EC_P256 SIGN/VERIFY key with the alias, and answers the same key when the alias exists', async () => {
    const request = { initOptions: initOptions('alias/release'), methodName: 'createKey', createKey: { ctxDeadline: DEADLINE, algorithm: 'EC_P256' } };
    const [first, rsa] = await Promise.all([
      invoke(request),
      // The whole reference works as well, and an RSA key is made when asked for.
      invoke({ initOptions: initOptions('deskkms://alias/release-rsa'), methodName: 'createKey', createKey: { algorithm: 'RSA_2048' } }),
    ]);
    expect(first.status, first.stderr).toBe(0);
    expect(Object.keys(first.json)).toEqual(['createKey']);
    const pem = pemOf(first, 'createKey');
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect((await v.call('DescribeKey', { KeyId: 'alias/release' })).KeyMetadata).toMatchObject({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY', KeyState: 'Enabled' });
    expect(rsa.status, rsa.stderr).toBe(0);
    expect((await v.call('DescribeKey', { KeyId: 'alias/release-rsa' })).KeyMetadata).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' });
    const keys = (await v.call('ListKeys', {})).TotalCount as number;
    const again = await invoke({ ...request, createKey: { algorithm: 'RSA_2048' } });
    expect(pemOf(again, 'createKey')).toBe(pem);
    expect((await v.call('ListKeys', {})).TotalCount).toBe(keys);
  });

  it('publicKey answers the newest version\'s PEM, base64 of the PEM bytes', async () => {
    const reply = await invoke(publicKeyRequest('alias/release'));
    expect(reply.status).toBe(0);
    const versions = await v.call('ListKeyVersions', { KeyId: 'alias/release' });
    const versionId = versions.KeyVersions.KeyVersion[0].KeyVersionId as string;
    const pem = (await v.call('GetPublicKey', { KeyId: 'alias/release', KeyVersionId: versionId })).PublicKey as string;
    expect(pemOf(reply, 'publicKey')).toBe(pem);
  });

  it('signMessage signs stdin (EC_P256, RSA_2048); openssl and @sigstore/verify accept it and refuse a changed byte; audited as cosign:sigstore', async () => {
    const before = listAuditEntries(v.vault.store.db, { newestFirst: true, limit: 1 })[0]!.seq;
    const replies = await Promise.all(['alias/release', 'alias/release-rsa'].flatMap((alias) => [invoke(publicKeyRequest(alias)), invoke(signRequest(alias), blob)]));
    const signatures: Buffer[] = [];
    for (let i = 0; i < replies.length; i += 2) {
      const pem = pemOf(replies[i]!, 'publicKey');
      const reply = replies[i + 1]!;
      expect(reply.status, reply.stderr).toBe(0);
      expect(Object.keys(reply.json)).toEqual(['signMessage']);
      const signature = Buffer.from(reply.json.signMessage.signature as string, 'base64');
      signatures.push(signature);
      expect(opensslVerify(pem, signature, blob)).toBe(0);
      expect(opensslVerify(pem, signature, changed)).toBe(1);
      expect(sigstoreAccepts(pem, signature, blob)).toBe(true);
      expect(sigstoreAccepts(pem, signature, changed)).toBe(false);
    }
    const signs = listAuditEntries(v.vault.store.db, { action: 'AsymmetricSign' }).filter((e) => e.seq > before);
    expect(signs.map((e) => `${e.caller} ${e.code}`)).toEqual(['cosign:sigstore OK', 'cosign:sigstore OK']);

    // verifySignature agrees: the message on stdin, then a changed message.
    const verdicts = await Promise.all(
      ['alias/release', 'alias/release-rsa'].flatMap((alias, i) => [invoke(verifyRequest(alias, signatures[i]!), blob), invoke(verifyRequest(alias, signatures[i]!), changed)]),
    );
    for (let i = 0; i < verdicts.length; i += 2) {
      expect(verdicts[i]).toMatchObject({ status: 0, stdout: '{"verifySignature":{}}' });
      expect(verdicts[i + 1]!.json).toEqual({ errorMessage: expect.stringMatching(/^invalid signature: it does not verify/) });
    }
  });

  it('signMessage with a prehashed digest (cosign\'s crypto.Signer wrapper: digest + hashFunc 5, empty stdin); verifySignature by digest and remotely', async () => {
    const [pk, reply] = await Promise.all([invoke(publicKeyRequest('alias/release')), invoke(signRequest('alias/release', { digest: b64(sha256(blob)), hashFunc: 5 }))]);
    const pem = pemOf(pk, 'publicKey');
    expect(reply.status, reply.stderr).toBe(0);
    const signature = Buffer.from(reply.json.signMessage.signature as string, 'base64');
    expect(opensslVerify(pem, signature, blob)).toBe(0);
    expect(sigstoreAccepts(pem, signature, blob)).toBe(true);
    const before = listAuditEntries(v.vault.store.db, { newestFirst: true, limit: 1 })[0]!.seq;
    const remote = rpc({ remoteVerification: true });
    const [byDigest, byOtherDigest, remoteGood, remoteBad] = await Promise.all([
      invoke(verifyRequest('alias/release', signature, { digest: b64(sha256(blob)), hashFunc: 5 })),
      invoke(verifyRequest('alias/release', signature, { digest: b64(sha256(changed)) })),
      invoke(verifyRequest('alias/release', signature, { digest: null }, remote), blob),
      invoke(verifyRequest('alias/release', signature, { digest: null }, remote), changed),
    ]);
    expect(byDigest.stdout).toBe('{"verifySignature":{}}');
    expect(byOtherDigest.json.errorMessage).toMatch(/^invalid signature/);
    expect(remoteGood.stdout).toBe('{"verifySignature":{}}');
    expect(remoteBad.json.errorMessage).toMatch(/^invalid signature/);
    const verifies = listAuditEntries(v.vault.store.db, { action: 'AsymmetricVerify' }).filter((e) => e.seq > before);
    expect(verifies.map((e) => e.caller)).toEqual(['cosign', 'cosign']);
  });

  it('rpcOptions.keyVersion picks the version; without it the newest signs', async () => {
    const versions = await v.call('ListKeyVersions', { KeyId: 'alias/release' });
    const first = versions.KeyVersions.KeyVersion[0].KeyVersionId as string;
    v.now = new Date(Date.now() + 60_000); // the fixture's clock: the new version is the newest
    const second = (await v.call('CreateKeyVersion', { KeyId: 'alias/release' })).KeyVersion.KeyVersionId as string;
    const firstPem = (await v.call('GetPublicKey', { KeyId: 'alias/release', KeyVersionId: first })).PublicKey as string;
    const secondPem = (await v.call('GetPublicKey', { KeyId: 'alias/release', KeyVersionId: second })).PublicKey as string;
    const [newestPk, firstPk, oldSigned, newestSigned] = await Promise.all([
      invoke(publicKeyRequest('alias/release')),
      invoke(publicKeyRequest('alias/release', rpc({ keyVersion: first }))),
      invoke(signRequest('alias/release', { digest: null }, rpc({ keyVersion: first })), blob),
      invoke(signRequest('alias/release'), blob),
    ]);
    expect(pemOf(newestPk, 'publicKey')).toBe(secondPem);
    expect(pemOf(firstPk, 'publicKey')).toBe(firstPem);
    const old = Buffer.from(oldSigned.json.signMessage.signature as string, 'base64');
    expect(opensslVerify(firstPem, old, blob)).toBe(0);
    expect(opensslVerify(secondPem, old, blob)).toBe(1);
    expect(opensslVerify(secondPem, Buffer.from(newestSigned.json.signMessage.signature as string, 'base64'), blob)).toBe(0);
    const [oldByVersion, oldByNewest] = await Promise.all([
      invoke(verifyRequest('alias/release', old, { digest: null }, rpc({ keyVersion: first })), blob),
      invoke(verifyRequest('alias/release', old), blob),
    ]);
    expect(oldByVersion.stdout).toBe('{"verifySignature":{}}');
    expect(oldByNewest.json.errorMessage).toMatch(/^invalid signature/);
  });

  it('vault-side refusals are errorMessage answers: unknown alias or key, a secp256k1 key, a signature that is not DER, a locked vault', async () => {
    const k1 = await v.makeKey('EC_P256K', 'SIGN/VERIFY');
    const signsBefore = listAuditEntries(v.vault.store.db, { action: 'AsymmetricSign' }).length;
    const replies = await Promise.all([
      invoke(publicKeyRequest('alias/nope')),
      invoke(signRequest(KEY_ID), blob),
      invoke(signRequest(k1.keyId), blob),
      invoke(publicKeyRequest(k1.keyId)),
      invoke(verifyRequest('alias/release', Buffer.from('not DER')), blob),
      invoke(signRequest('alias/release'), blob, { ...env, DESKKMS_PASSPHRASE_FILE: '' }),
    ]);
    const expected = [
      /^Forbidden\.AliasNotFound: /,
      /^Forbidden\.KeyNotFound: /,
      /^Format\.UnsupportedKeySpec: cosign cannot use a EC_P256K key: sigstore has no secp256k1/,
      /^Format\.UnsupportedKeySpec: /,
      /^invalid signature: not a ECDSA_SHA_256 signature/,
      /^Vault\./,
    ];
    replies.forEach((reply, i) => {
      expect(reply.status, reply.stdout).toBe(0);
      expect(reply.json).toEqual({ errorMessage: expect.stringMatching(expected[i]!) });
    });
    expect(listAuditEntries(v.vault.store.db, { action: 'AsymmetricSign' })).toHaveLength(signsBefore);
  });
});

// sigstore-kms-deskkms: a KMS plugin for cosign and every program built on sigstore's
// pkg/signature/kms/cliplugin, so `cosign sign-blob --key deskkms://alias/release FILE` signs with
// a vault key. sigstore finds the program by the key reference's scheme ("deskkms" ->
// sigstore-kms-deskkms on PATH) and runs it once per method call, speaking protocol "v1":
//
//   argv[1]  the protocol version, "v1"
//   argv[2]  JSON PluginArgs: {"initOptions": {"protocolVersion", "keyResourceID", "hashFunc",
//            "ctxDeadline"?, "rpcOptions"?}, "methodName": ..., "<methodName>": {its arguments}}
//   stdin    the message, for signMessage and verifySignature (empty when a digest is given)
//   stdout   JSON PluginResp: {"<methodName>": {its result}} or {"errorMessage": "..."}
//
// keyResourceID is what follows "deskkms://": "alias/NAME" or a KeyId. The key version is the
// one in rpcOptions.keyVersion, else the key's newest. hashFunc is Go's crypto.Hash number; only
// SHA-256 (5) is signed. []byte fields are standard base64 (Go's encoding/json), absent ones null.
//
// Methods: defaultAlgorithm ("EC_P256"), supportedAlgorithms (the key specs sigstore can carry:
// EC_P256, RSA_2048/3072/4096, named as KeySpec like AWS KMS's plugin names its specs),
// publicKey (PEM), signMessage (DER ECDSA or RSASSA-PKCS1-v1_5 over SHA-256 of stdin, or over
// signOptions.messageOptions.digest when cosign hands a prehashed digest, as its crypto.Signer
// wrapper does), verifySignature (offline with the public key, or through AsymmetricVerify when
// rpcOptions.remoteVerification is true), createKey (an alias reference only: the existing key's
// public key if the alias exists, as sigstore's AWS plugin answers, else a new SIGN/VERIFY key of
// the algorithm named, with the alias).
//
// Every signature is one AsymmetricSign through the handler table, audited with caller
// "cosign:sigstore" (a signature for sigstore, which cosign wraps). publicKey and signMessage go
// through a running DeskKMS agent that serves the vault and the key version
// (core/hosts/cli/signer-session.ts; audited "ssh-agent[PROGRAM PID]:cosign:sigstore"), else open
// the vault; createKey and verifySignature always open the vault. Exit status as sigstore's
// reference plugin (test/cliplugin/localkms): 0 when a method ran, whether it answered a result
// or an errorMessage (sigstore ignores the status and reads errorMessage), 2 when the call itself
// could not be read (another protocol version, arguments that are not PluginArgs JSON).
//
// Every request field is checked before the vault is opened, and the vault side (the handler
// table, the crypto engine) is loaded only for the methods that need it: sigstore runs the plugin
// once per call, and defaultAlgorithm, supportedAlgorithms and refusals answer without it.
import { isMainModule } from './is-main.ts';
import { z } from 'zod';
import type { Signer, VaultSigner } from '../../actions/format-signing.ts';
import type { ActionName, ActionParams } from '../../contract/actions.ts';
import { decodeBase64, encodeBase64 } from '../../contract/base64.ts';
import { KmsError } from '../../contract/errors.ts';
import { ALIAS } from '../../contract/ids.ts';
import type { ActionResponse } from '../../contract/responses.ts';
import type { KeySpec, SigningAlgorithm } from '../../contract/specs.ts';
import type { PendingSignature } from '../../formats/format.ts';
import type { CliIO } from '../cli/command.ts';
import { internalErrorReporter, reportedError } from '../cli/report-error.ts';

export const PROTOCOL_VERSION = 'v1';
const CALLER = 'cosign';
const SCHEME = 'deskkms://';
/** Go's crypto.SHA256; 0 is "unspecified", which sigstore's clients never send, read as SHA-256. */
const SHA256 = 5;

export const DEFAULT_ALGORITHM = 'EC_P256';
export const SUPPORTED_ALGORITHMS: readonly KeySpec[] = ['EC_P256', 'RSA_2048', 'RSA_3072', 'RSA_4096'];

const SIGNING_ALGORITHM: Readonly<Partial<Record<KeySpec, SigningAlgorithm>>> = {
  EC_P256: 'ECDSA_SHA_256',
  RSA_2048: 'RSA_PKCS1_SHA_256',
  RSA_3072: 'RSA_PKCS1_SHA_256',
  RSA_4096: 'RSA_PKCS1_SHA_256',
};

// --- The request (sigstore's common.PluginArgs). Unknown members are ignored, as Go's
// encoding/json does, so that methods and options sigstore adds in a minor version do not break us.
const goBytes = z.string().nullish(); // []byte: standard base64, or null
const goTime = z.string().nullish(); // *time.Time: RFC 3339, or null
const goHash = z.number().int().nullish(); // crypto.Hash
const rpcOptions = z.object({ ctxDeadline: goTime, keyVersion: z.string().nullish(), remoteVerification: z.boolean().nullish() }).nullish();
const messageOptions = z.object({ digest: goBytes, hashFunc: goHash }).nullish();

const pluginArgs = z.object({
  initOptions: z.object({ ctxDeadline: goTime, protocolVersion: z.string(), keyResourceID: z.string(), hashFunc: goHash, rpcOptions }),
  methodName: z.string(),
  createKey: z.object({ ctxDeadline: goTime, algorithm: z.string().nullish() }).nullish(),
  publicKey: z.object({ publicKeyOptions: z.object({ rpcOptions }).nullish() }).nullish(),
  signMessage: z.object({ signOptions: z.object({ rpcOptions, messageOptions }).nullish() }).nullish(),
  verifySignature: z.object({ signature: goBytes, verifyOptions: z.object({ rpcOptions, messageOptions }).nullish() }).nullish(),
});
type PluginArgs = z.output<typeof pluginArgs>;
type RpcOptions = z.output<typeof rpcOptions>;
type MessageOptions = z.output<typeof messageOptions>;

/** A refusal in sigstore's words: its text is PluginResp.errorMessage as is. */
class PluginError extends Error {}

/** Reads the request; a call that is not PluginArgs JSON throws PluginError (exit 2). */
function readArgs(argv: readonly string[]): PluginArgs {
  if (argv.length < 2) {
    throw new PluginError(`error parsing plugin args: expected the protocol version and the JSON request as arguments, got ${argv.length} arguments`);
  }
  if (argv[0] !== PROTOCOL_VERSION) throw new PluginError(`expected protocol version: ${PROTOCOL_VERSION}, got ${argv[0]}`);
  let json: unknown;
  try {
    json = JSON.parse(argv[1]!);
  } catch (error) {
    throw new PluginError(`error parsing plugin args: ${error instanceof Error ? error.message : 'not JSON'}`);
  }
  const parsed = pluginArgs.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PluginError(`error parsing plugin args: ${issue.path.join('.') || 'request'}: ${issue.message}`);
  }
  if (parsed.data.initOptions.protocolVersion !== PROTOCOL_VERSION) {
    throw new PluginError(`expected protocol version: ${PROTOCOL_VERSION}, got initOptions.protocolVersion ${parsed.data.initOptions.protocolVersion}`);
  }
  return parsed.data;
}

// --- The call, checked whole before the vault opens.
interface KeyCall {
  /** "alias/NAME" or a KeyId. */
  readonly keyRef: string;
  /** rpcOptions.keyVersion; undefined: the key's newest version. */
  readonly keyVersionId: string | undefined;
}
type Call =
  | { readonly method: 'defaultAlgorithm' | 'supportedAlgorithms' }
  | (KeyCall & { readonly method: 'publicKey' })
  | (KeyCall & { readonly method: 'createKey'; readonly keySpec: KeySpec })
  | (KeyCall & { readonly method: 'signMessage'; readonly digest: Uint8Array | undefined })
  | (KeyCall & { readonly method: 'verifySignature'; readonly digest: Uint8Array | undefined; readonly signature: Uint8Array; readonly remote: boolean });

/** The vault key reference from keyResourceID ("alias/NAME", a KeyId, or the whole deskkms:// reference). */
function keyRefOf(args: PluginArgs): string {
  let ref = args.initOptions.keyResourceID;
  if (ref.startsWith(SCHEME)) ref = ref.slice(SCHEME.length);
  if (ref === '') throw new PluginError(`keyResourceID is empty: name the key as ${SCHEME}alias/NAME or ${SCHEME}KEY-ID`);
  if (ref.startsWith('alias/') && !ALIAS.test(ref)) {
    throw new PluginError(`keyResourceID ${JSON.stringify(ref)} is not a valid alias ("alias/" then 1-249 of a-z A-Z 0-9 : / _ -)`);
  }
  return ref;
}

/** The deadlines sigstore passes (the call's context, the method's): a call past one is refused. */
function checkDeadlines(...deadlines: (string | null | undefined)[]): void {
  for (const deadline of deadlines) {
    if (deadline === null || deadline === undefined) continue;
    const at = Date.parse(deadline);
    if (Number.isNaN(at)) throw new PluginError(`ctxDeadline ${JSON.stringify(deadline)} is not an RFC 3339 time`);
    if (at <= Date.now()) throw new PluginError('context deadline exceeded');
  }
}

function checkHash(hashFunc: number | null | undefined, where: string): void {
  if (hashFunc === null || hashFunc === undefined || hashFunc === 0 || hashFunc === SHA256) return;
  throw new PluginError(`${where} ${hashFunc} is not SHA-256 (crypto.SHA256 = ${SHA256}): deskkms keys sign SHA-256 digests only`);
}

function bytes(value: string | null | undefined, what: string): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    return decodeBase64(value, what);
  } catch {
    throw new PluginError(`${what} is not standard base64`);
  }
}

function keyCall(args: PluginArgs, rpc: RpcOptions): KeyCall {
  checkDeadlines(rpc?.ctxDeadline);
  return { keyRef: keyRefOf(args), keyVersionId: rpc?.keyVersion || args.initOptions.rpcOptions?.keyVersion || undefined };
}

/** The digest given with the call (prehashed), or undefined: SHA-256 of stdin. */
function digestOption(options: MessageOptions, where: string): Uint8Array | undefined {
  checkHash(options?.hashFunc, `${where}.hashFunc`);
  const digest = bytes(options?.digest, `${where}.digest`);
  if (!digest || digest.length === 0) return undefined;
  if (digest.length !== 32) throw new PluginError(`${where}.digest is ${digest.length} bytes; a SHA-256 digest is 32`);
  return digest;
}

function callOf(args: PluginArgs): Call {
  checkDeadlines(args.initOptions.ctxDeadline, args.initOptions.rpcOptions?.ctxDeadline);
  checkHash(args.initOptions.hashFunc, 'initOptions.hashFunc');
  switch (args.methodName) {
    case 'defaultAlgorithm':
    case 'supportedAlgorithms':
      return { method: args.methodName };
    case 'publicKey':
      return { method: 'publicKey', ...keyCall(args, args.publicKey?.publicKeyOptions?.rpcOptions) };
    case 'createKey': {
      checkDeadlines(args.createKey?.ctxDeadline);
      const key = keyCall(args, undefined);
      if (!ALIAS.test(key.keyRef)) throw new PluginError(`createKey needs an alias key reference (${SCHEME}alias/NAME), got ${JSON.stringify(key.keyRef)}`);
      const algorithm = args.createKey?.algorithm || DEFAULT_ALGORITHM;
      const keySpec = SUPPORTED_ALGORITHMS.find((spec) => spec === algorithm);
      if (!keySpec) throw new PluginError(`algorithm ${algorithm} not supported; supported: ${SUPPORTED_ALGORITHMS.join(', ')}`);
      return { method: 'createKey', ...key, keySpec };
    }
    case 'signMessage': {
      const options = args.signMessage?.signOptions;
      return { method: 'signMessage', ...keyCall(args, options?.rpcOptions), digest: digestOption(options?.messageOptions, 'signOptions.messageOptions') };
    }
    case 'verifySignature': {
      const options = args.verifySignature?.verifyOptions;
      const key = keyCall(args, options?.rpcOptions);
      const signature = bytes(args.verifySignature?.signature, 'verifySignature.signature');
      if (!signature || signature.length === 0) throw new PluginError('verifySignature.signature is missing or empty');
      const remote = options?.rpcOptions?.remoteVerification === true || args.initOptions.rpcOptions?.remoteVerification === true;
      return { method: 'verifySignature', ...key, digest: digestOption(options?.messageOptions, 'verifyOptions.messageOptions'), signature, remote };
    }
    default:
      throw new PluginError(`unsupported method: ${args.methodName}`);
  }
}

// --- The vault side, loaded on demand.
async function vaultSide() {
  const [signing, dispatching, publicKeys, registry, session, signerSession] = await Promise.all([
    import('../../actions/format-signing.ts'),
    import('../../actions/dispatch.ts'),
    import('../../crypto/public-key.ts'),
    import('../../formats/registry.ts'),
    import('../cli/vault-session.ts'),
    import('../cli/signer-session.ts'),
  ]);
  return { ...signing, ...dispatching, ...publicKeys, ...registry, ...session, ...signerSession };
}
type VaultSide = Awaited<ReturnType<typeof vaultSide>>;

type Result = Record<string, unknown>;

class Methods {
  private readonly side: VaultSide;
  private readonly signer: Signer;
  private readonly io: CliIO;

  constructor(side: VaultSide, signer: Signer, io: CliIO) {
    this.side = side;
    this.signer = signer;
    this.io = io;
  }

  private call<A extends ActionName>(action: A, params: ActionParams<A>): Promise<ActionResponse<A>> {
    return this.side.call(this.signer, action, params);
  }

  /** The sigstore algorithm of a key spec; secp256k1 and SM2 are refused with the format's reason. */
  private algorithmFor(spec: KeySpec): SigningAlgorithm {
    const reason = this.side.signatureFormat('sigstore').unsupported(spec);
    const algorithm = SIGNING_ALGORITHM[spec];
    if (reason !== undefined || !algorithm) throw new KmsError('Format.UnsupportedKeySpec', `cosign cannot use a ${spec} key: ${reason ?? 'no sigstore algorithm'}`);
    return algorithm;
  }

  /** The public key of the version named, or of the key's newest version (any key state: old signatures still verify). */
  private async publicKeyOf(call: KeyCall): Promise<{ pem: string; keyId: string; keyVersionId: string }> {
    let keyId = call.keyRef;
    let versionId = call.keyVersionId;
    if (versionId === undefined) {
      // The same version chooseSigningKey takes, so publicKey and signMessage agree.
      const newest = await this.side.newestKeyVersion(this.signer, call.keyRef);
      keyId = newest.KeyId;
      versionId = newest.KeyVersionId;
    }
    // Through the agent: a version it does not serve is refused here, and the vault answers instead.
    await this.side.assertServed(this.signer, keyId, versionId);
    const got = await this.call('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId });
    this.algorithmFor(this.side.importPublicKey(got.PublicKey, 'PublicKey').spec);
    return { pem: got.PublicKey, keyId: got.KeyId, keyVersionId: got.KeyVersionId };
  }

  private async digestOf(given: Uint8Array | undefined): Promise<Uint8Array> {
    if (given) return given;
    const hash = this.side.createDigester('SHA-256');
    for await (const chunk of this.io.stdin) hash.update(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return hash.digest();
  }

  async publicKey(call: KeyCall): Promise<Result> {
    const { pem } = await this.publicKeyOf(call);
    return { publicKey: { publicKeyPEM: pemBytes(pem) } };
  }

  async signMessage(call: KeyCall & { readonly digest: Uint8Array | undefined }): Promise<Result> {
    const key = await this.side.chooseSigningKey(this.signer, call.keyRef, call.keyVersionId);
    const algorithm = this.algorithmFor(key.spec);
    const digest = await this.digestOf(call.digest);
    // What cosign stores is AsymmetricSign's Value itself: a format-neutral pending signature.
    const pending: PendingSignature = { update: () => undefined, toSign: () => ({ algorithm, digest }), finish: (value) => value };
    const signature = await this.side.completeSignature(this.signer, key, 'sigstore', pending);
    return { signMessage: { signature: encodeBase64(signature) } };
  }

  async verifySignature(call: KeyCall & { readonly digest: Uint8Array | undefined; readonly signature: Uint8Array; readonly remote: boolean }): Promise<Result> {
    const { pem, keyId, keyVersionId } = await this.publicKeyOf(call);
    const key = this.side.importPublicKey(pem, 'PublicKey');
    const algorithm = this.algorithmFor(key.spec);
    const digest = await this.digestOf(call.digest);
    let valid: boolean;
    if (call.remote) {
      const params = { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: algorithm, Digest: encodeBase64(digest), Value: encodeBase64(call.signature) };
      valid = (await this.call('AsymmetricVerify', params)).Value;
    } else {
      try {
        valid = this.side.verifyDigest(key, algorithm, digest, call.signature);
      } catch (error) {
        if (error instanceof KmsError && error.code === 'InvalidParameter') throw new PluginError(`invalid signature: not a ${algorithm} signature (${error.message})`);
        throw error;
      }
    }
    if (!valid) throw new PluginError(`invalid signature: it does not verify over the message with key version ${keyVersionId} (${algorithm})`);
    return { verifySignature: {} };
  }

  /** The signer of the methods that always open the vault (createKey). */
  private get vaultSigner(): VaultSigner {
    if (!this.signer.vault) throw new KmsError('InternalFailure', 'createKey runs on the vault, not through the agent');
    return this.signer;
  }

  async createKey(call: KeyCall & { readonly keySpec: KeySpec }): Promise<Result> {
    const signer = this.vaultSigner;
    const existing = await this.side.dispatch(signer.vault, 'DescribeKey', { KeyId: call.keyRef }, signer.caller, signer.dispatchOptions);
    if (!existing.ok && existing.error.Code !== 'Forbidden.AliasNotFound') {
      throw new KmsError(existing.error.Code, `DescribeKey: ${existing.error.Message} (RequestId ${existing.error.RequestId})`);
    }
    if (!existing.ok) {
      const created = await this.call('CreateKey', {
        KeySpec: call.keySpec,
        KeyUsage: 'SIGN/VERIFY',
        Description: `cosign signing key ${call.keyRef}, created by sigstore-kms-deskkms`,
      });
      try {
        await this.call('CreateAlias', { KeyId: created.KeyMetadata.KeyId, AliasName: call.keyRef });
      } catch (error) {
        // Another createKey took the alias meanwhile: leave no key that nothing names.
        const params = { KeyId: created.KeyMetadata.KeyId, PendingWindowInDays: 7 };
        await this.side.dispatch(signer.vault, 'ScheduleKeyDeletion', params, signer.caller, signer.dispatchOptions);
        throw error;
      }
    }
    // As sigstore's AWS plugin: an existing alias answers its key, whatever algorithm was asked.
    const { pem } = await this.publicKeyOf({ keyRef: call.keyRef, keyVersionId: undefined });
    return { createKey: { publicKeyPEM: pemBytes(pem) } };
  }
}

const pemBytes = (pem: string) => encodeBase64(new TextEncoder().encode(pem));

async function runCall(call: Call, io: CliIO): Promise<Result> {
  if (call.method === 'defaultAlgorithm') return { defaultAlgorithm: { defaultAlgorithm: DEFAULT_ALGORITHM } };
  if (call.method === 'supportedAlgorithms') return { supportedAlgorithms: { supportedAlgorithms: [...SUPPORTED_ALGORITHMS] } };
  // What cosign asks on every signature goes through a running agent when it serves the key, and
  // opens no vault. The key worker loads on the other core while this thread loads the vault side:
  // for those two only when no DeskKMS agent is there, for the others always.
  const throughSigner = call.method === 'publicKey' || call.method === 'signMessage';
  const early = await import('../cli/early-worker.ts');
  if (throughSigner) await early.prestartUnlessAgent(io);
  else await early.prestartVaultWorker(io);
  const side = await vaultSide();
  if (throughSigner) {
    return side.withSigner({}, io, CALLER, (signer) => {
      const methods = new Methods(side, signer, io);
      return call.method === 'publicKey' ? methods.publicKey(call) : methods.signMessage(call);
    });
  }
  return side.withVault({}, io, (vault) => {
    const methods = new Methods(side, { vault, caller: CALLER, dispatchOptions: { onInternalError: internalErrorReporter(io) } }, io);
    switch (call.method) {
      case 'createKey':
        return methods.createKey(call);
      case 'verifySignature':
        return methods.verifySignature(call);
      default:
        throw new KmsError('InternalFailure', `no handler for ${call.method}`);
    }
  });
}

function messageOf(io: CliIO, error: unknown): string {
  if (error instanceof PluginError) return error.message;
  const kms = reportedError(io, error);
  return `${kms.code}: ${kms.message}`;
}

/** Runs one plugin call (argv without the program name); returns the exit status. */
export async function runSigstoreKms(argv: readonly string[], io: CliIO): Promise<number> {
  let args: PluginArgs;
  try {
    args = readArgs(argv);
  } catch (error) {
    io.stdout.write(JSON.stringify({ errorMessage: messageOf(io, error) }));
    return 2;
  }
  let response: Result;
  try {
    response = await runCall(callOf(args), io);
  } catch (error) {
    response = { errorMessage: messageOf(io, error) };
  }
  io.stdout.write(JSON.stringify(response));
  return 0;
}

if (isMainModule(import.meta.filename)) {
  process.exitCode = await runSigstoreKms(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
  });
}

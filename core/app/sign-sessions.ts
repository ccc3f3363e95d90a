// Signatures in a release format for the app (issue 13): the renderer streams the message like a
// digest (Sign.Begin / Update / Finish / Abort) and gets the signature file back, named as its
// ecosystem names it. The key version's public facts come from chooseSigningKey, the format hashes
// the message, and Finish is completeSignature's one AsymmetricSign, audited as
// "<caller>:<format>" (core/actions/format-signing.ts): no other route to the key.
import type { AppParsed, AppResults, SignatureFileView, SignatureFormatView } from '../contract/app-api.ts';
import { encodeBase64 } from '../contract/base64.ts';
import { SIGNATURE_FORMATS, SIGNATURE_MEDIA_TYPES, type SignatureFormatName } from '../contract/signature-formats.ts';
import type { KeySpec } from '../contract/specs.ts';
import { beginSignature, chooseSigningKey, completeSignature, type ChosenKey, type Signer } from '../actions/format-signing.ts';
import type { FormatOptions, PendingSignature } from '../formats/format.ts';
import { defaultSignatureName, signatureFormat } from '../formats/registry.ts';
import { StreamSessions } from './stream-sessions.ts';

interface SignState {
  readonly pending: PendingSignature;
  readonly key: ChosenKey;
  readonly format: SignatureFormatName;
  /** The signature file's name. */
  readonly fileName: string;
  update(chunk: Uint8Array): void;
}

/** Every format, and for `spec` why a format cannot carry it, in the format module's own words. */
export function formatsFor(spec: KeySpec): SignatureFormatView[] {
  return SIGNATURE_FORMATS.map((name) => {
    const format = signatureFormat(name);
    const unsupported = format.unsupported(spec);
    return { Format: name, Extension: format.extension, Description: format.description, ...(unsupported !== undefined ? { Unsupported: unsupported } : {}) };
  });
}

export class SignSessions extends StreamSessions<SignState> {
  constructor(clock: () => number = Date.now) {
    super({ begin: 'Sign.Begin', noun: 'signature' }, clock);
  }

  /**
   * `since`: the store's epoch when the host started the call (before it awaited the signer); a
   * Lock that cleared the sessions while the key was being chosen refuses the session (Vault.Locked).
   */
  async begin(signer: Signer, p: AppParsed<'Sign.Begin'>, since: number = this.epoch): Promise<AppResults['Sign.Begin']> {
    this.assertRoom();
    const key = await chooseSigningKey(signer, p.KeyId, p.KeyVersionId);
    const options: FormatOptions = {
      ...(p.Namespace !== undefined ? { namespace: p.Namespace } : {}),
      ...(p.Detached !== undefined ? { detached: p.Detached } : {}),
      ...(p.Algorithm !== undefined ? { algorithm: p.Algorithm } : {}),
    };
    // A spec the format cannot carry is refused here (Format.UnsupportedKeySpec, with the reason).
    const pending = beginSignature(key, p.Format, options);
    const fileName = defaultSignatureName(p.FileName, p.Format);
    const id = this.open({ pending, key, format: p.Format, fileName, update: (chunk) => pending.update(chunk) }, since);
    return { SessionId: id, Format: p.Format, KeyId: key.keyId, KeyVersionId: key.keyVersionId, FileName: fileName };
  }

  async finish(signer: Signer, id: string): Promise<SignatureFileView> {
    const { state, bytes } = this.take(id);
    const file = await completeSignature(signer, state.key, state.format, state.pending);
    return {
      Signature: encodeBase64(file),
      FileName: state.fileName,
      Format: state.format,
      MediaType: SIGNATURE_MEDIA_TYPES[state.format],
      KeyId: state.key.keyId,
      KeyVersionId: state.key.keyVersionId,
      BytesSigned: bytes,
    };
  }
}

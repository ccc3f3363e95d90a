// The Sign view's signature format: a raw signature (AsymmetricSign's Value) or a file in a
// release format its ecosystem verifies (SSHSIG for ssh-keygen and git, an OpenPGP signature for
// gpg and sq, a sigstore bundle for cosign, a JWS). Which formats can carry the chosen key's spec,
// and why not, is the format modules' own answer, asked of the host (Sign.Formats); a format that
// cannot is offered disabled with that reason. Each format's options: the SSH namespace, the JWS
// detached payload; an RSA key's algorithm is the picker's, where the format takes one.
import { useEffect, useId, useState } from 'react';
import type { SignatureFormatView } from '../../../../core/contract/app-api.ts';
import { SIGNATURE_FORMATS, type SignatureFormatName } from '../../../../core/contract/signature-formats.ts';
import type { KeySpec } from '../../../../core/contract/specs.ts';
import { call, describeError } from '../../api/bridge.ts';
import { ErrorLine, type Failure } from '../common.tsx';

export interface FormatValue {
  readonly format: SignatureFormatName;
  /** ssh: the SSHSIG namespace. */
  readonly namespace: string;
  /** jws: leave the payload out. */
  readonly detached: boolean;
}

export const DEFAULT_FORMAT: FormatValue = { format: 'raw', namespace: 'file', detached: false };

export const FORMAT_LABELS: Readonly<Record<SignatureFormatName, string>> = {
  raw: 'Raw signature',
  ssh: 'SSH signature (ssh-keygen, git)',
  openpgp: 'OpenPGP (gpg, sq)',
  sigstore: 'Sigstore bundle (cosign)',
  jws: 'JWS',
};

/** Formats that sign an RSA key with the algorithm the picker names (RS256 or PS256 for JWS); the others choose their own. */
export const FORMATS_WITH_RSA_ALGORITHM: ReadonlySet<SignatureFormatName> = new Set(['raw', 'jws']);

/** Why the namespace cannot be sent, or undefined (the host checks the same). */
export function namespaceProblem(namespace: string): string | undefined {
  if (namespace === '') return 'Enter a namespace (ssh-keygen -Y verify -n must name the same)';
  return /^[\x21-\x7e]{1,128}$/.test(namespace) ? undefined : 'The namespace is printable ASCII without spaces, at most 128 characters';
}

export function FormatChoice({
  spec,
  value,
  onChange,
  disabled,
  rsa,
}: {
  /** The chosen key's spec (undefined: no key chosen yet). */
  spec: KeySpec | undefined;
  value: FormatValue;
  onChange: (next: FormatValue) => void;
  disabled?: boolean;
  /** The chosen key is RSA: say which formats use the picker's algorithm. */
  rsa: boolean;
}) {
  const id = useId();
  const [formats, setFormats] = useState<readonly SignatureFormatView[]>([]);
  const [error, setError] = useState<Failure>();

  useEffect(() => {
    if (!spec) return;
    let live = true;
    call('Sign.Formats', { KeySpec: spec }).then(
      (r) => {
        if (!live) return;
        setFormats(r.Formats);
        setError(undefined);
      },
      (e: unknown) => live && setError(describeError(e)),
    );
    return () => {
      live = false;
    };
  }, [spec]);

  // A format the chosen key cannot carry is not kept chosen: back to a raw signature.
  const current = formats.find((f) => f.Format === value.format);
  useEffect(() => {
    if (current?.Unsupported !== undefined) onChange({ ...value, format: 'raw' });
  }, [current, value, onChange]);

  const problem = value.format === 'ssh' ? namespaceProblem(value.namespace) : undefined;
  // Until the host answers, the formats are listed without their facts.
  const rows: readonly (Pick<SignatureFormatView, 'Format'> & Partial<SignatureFormatView>)[] = formats.length > 0 ? formats : SIGNATURE_FORMATS.map((Format) => ({ Format }));
  return (
    <fieldset className="format-choice" disabled={disabled}>
      <legend>Signature format</legend>
      <div className="format-options" role="radiogroup" aria-label="Signature format">
        {rows.map((f) => {
          const name = f.Format;
          const hintId = `${id}-${name}-hint`;
          return (
            <div className="format-option" key={name}>
              <label className="choice">
                <input
                  type="radio"
                  name={`${id}-format`}
                  value={name}
                  checked={value.format === name}
                  disabled={f.Unsupported !== undefined}
                  aria-describedby={hintId}
                  onChange={() => onChange({ ...value, format: name })}
                />
                <span>{FORMAT_LABELS[name]}</span>
              </label>
              <p className="muted hint" id={hintId} data-testid={`format-hint-${name}`}>
                {f.Unsupported !== undefined ? (
                  <>
                    Not for {spec} keys: {f.Unsupported}
                  </>
                ) : f.Extension !== undefined ? (
                  <>
                    Saved as FILE{f.Extension}
                    {f.Description ? ` — ${f.Description}` : ''}
                  </>
                ) : null}
              </p>
            </div>
          );
        })}
      </div>
      {value.format === 'ssh' ? (
        <div className="field">
          <label htmlFor={`${id}-namespace`}>SSH namespace</label>
          <input
            id={`${id}-namespace`}
            className="mono"
            value={value.namespace}
            aria-invalid={problem !== undefined}
            onChange={(e) => onChange({ ...value, namespace: e.target.value })}
          />
          <p className={problem ? 'error' : 'muted'}>{problem ?? '"file" for files (ssh-keygen -Y sign’s default), "git" for git commits and tags.'}</p>
        </div>
      ) : null}
      {value.format === 'jws' ? (
        <label className="choice">
          <input type="checkbox" checked={value.detached} onChange={(e) => onChange({ ...value, detached: e.target.checked })} />
          <span>Detached payload (the JWS leaves the file out: header..signature)</span>
        </label>
      ) : null}
      {rsa && value.format !== 'raw' ? (
        <p className="muted" data-testid="format-algorithm-note">
          {FORMATS_WITH_RSA_ALGORITHM.has(value.format)
            ? `The Algorithm above is used: RSA_PKCS1_SHA_256 gives RS256, RSA_PSS_SHA_256 gives PS256.`
            : `${FORMAT_LABELS[value.format]} signs RSA keys with RSA_PKCS1_SHA_256 (SHA-256, PKCS#1 v1.5); the Algorithm above is not used.`}
        </p>
      ) : null}
      <ErrorLine error={error} />
    </fieldset>
  );
}

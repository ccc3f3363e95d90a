// The approval screen: everything the vault will sign for a request, before it signs anything. The
// key as the request names it and as this vault resolves it (aliases, KeyId, the version and
// whether it is the newest, spec, state, fingerprints), the format and its options, each file's
// name, size and SHA-256 (the operator compares them with the online machine's; a warning where
// the station cannot check the signed digest is over it: jws, SM2 raw), the note (text,
// its unsafe characters shown escaped), the request's age against the window, the RequestId and
// the request's SHA-256, a CSR's details, the decisions taken on it before (approved: it may be
// again; rejected: a Problem), and the Problems with their Codes. Approve is disabled
// while there is a Problem; Approve and Reject are plain buttons outside any form (Enter in a
// field never approves; nothing is focused on Approve). Reject asks first.
import { useEffect, useId, useRef, useState } from 'react';
import type { RequestReviewView } from '../../../../core/contract/app-api.ts';
import { displayText } from '../../../../core/contract/escape-text.ts';
import { Dialog, ErrorLine, ProgressBar, type Failure } from '../common.tsx';
import { exactSize, humanSize, requestAge, WINDOW_CHOICES } from './describe.ts';

const FORMAT_NAMES: Readonly<Record<RequestReviewView['Format'], string>> = {
  ssh: 'SSH signature (SSHSIG, ssh-keygen -Y verify)',
  openpgp: 'OpenPGP detached signature (gpg --verify)',
  sigstore: 'Sigstore bundle (cosign verify-blob)',
  jws: 'JSON Web Signature',
  raw: 'Raw signature (openssl dgst -verify)',
  csr: 'Certificate: this key as the CA issues the CSR',
};

/** Beside a file whose signed digest the station cannot relate to its SHA-256 (RequestReview Files[].Bound false). */
export const UNBOUND_WARNING =
  'The station cannot check that this file\u2019s signature is over the SHA-256 shown (jws, SM2 raw): it trusts the online machine.';

/** The format's options as label/value pairs, "(default)" named where the request left one out. */
function optionFacts(review: RequestReviewView): [string, string][] {
  const o = review.Options;
  switch (review.Format) {
    case 'ssh':
      return [['Namespace', o.Namespace ?? 'file (default)']];
    case 'openpgp':
      return [['User id', o.UserId !== undefined ? displayText(o.UserId) : 'none (signature only, no certificate)']];
    case 'jws':
      return [
        ['Detached', o.Detached === true ? 'yes: the token without its payload' : 'no: finish attaches the payload'],
        ...(o.Algorithm !== undefined ? ([['Algorithm', o.Algorithm]] as [string, string][]) : []),
      ];
    case 'raw':
      return [['Algorithm', o.Algorithm ?? 'the key spec\u2019s default']];
    case 'sigstore':
      return [];
    case 'csr':
      return [
        ['Validity', o.ValidityDays !== undefined ? `${o.ValidityDays} days` : 'default'],
        ['CA certificate', o.IsCa === true ? `yes${o.PathLen !== undefined ? `, path length ${o.PathLen}` : ''}` : 'no'],
        ...(o.Policy !== undefined ? ([['Extensions', o.Policy]] as [string, string][]) : []),
      ];
  }
}

/** The note as lines of text; every unsafe character (bidi, zero-width, controls) shown escaped. */
function NoteText({ note }: { note: string }) {
  return (
    <blockquote className="airgap-note" data-testid="airgap-note">
      {note.split('\n').map((line, i) => (
        <p key={i}>{displayText(line) || '\u00a0'}</p>
      ))}
    </blockquote>
  );
}

export function ApprovalScreen({
  review,
  windowHours,
  busy,
  error,
  onWindow,
  onApprove,
  onReject,
  onCancel,
}: {
  review: RequestReviewView;
  windowHours: number;
  busy: boolean;
  error: Failure;
  onWindow: (hours: number) => void;
  onApprove: () => void;
  onReject: () => Promise<boolean>;
  onCancel: () => void;
}) {
  const id = useId();
  const titleRef = useRef<HTMLHeadingElement>(null);
  const [confirmReject, setConfirmReject] = useState(false);
  const key = review.Key;
  const blocked = review.Problems.length > 0;

  // A new review starts at its top for a keyboard or screen-reader user (never on Approve).
  useEffect(() => {
    titleRef.current?.focus();
  }, [review.RequestId, review.RequestSha256]);

  return (
    <section className="panel stack airgap-approval" aria-labelledby={`${id}-title`} data-testid="airgap-approval">
      <h1 id={`${id}-title`} ref={titleRef} tabIndex={-1}>
        Signing request
      </h1>
      <dl className="facts">
        <dt>Request id</dt>
        <dd>
          <code data-testid="airgap-request-id">{review.RequestId}</code>
        </dd>
        <dt>Request SHA-256</dt>
        <dd>
          <code className="digest" data-testid="airgap-request-sha256">
            {review.RequestSha256}
          </code>
        </dd>
        <dt>Age</dt>
        <dd data-testid="airgap-age">
          {requestAge(review.AgeSeconds, review.MaxAgeSeconds)} <span className="muted">({review.Created})</span>
        </dd>
      </dl>

      {review.Decisions.length > 0 ? (
        <div className="warning airgap-decisions" role="note" data-testid="airgap-decisions">
          <strong>Decided before in this vault:</strong>
          <ul>
            {review.Decisions.map((d, i) => (
              <li key={i}>
                {d.Event === 'RejectSigningRequest' ? 'rejected' : 'approved (it may be approved again: its response may have been lost)'} at {displayText(d.Time)}{' '}
                <span className="muted">({displayText(d.Caller)})</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {blocked ? (
        <div className="airgap-problems" role="alert" data-testid="airgap-problems">
          <h2>This request cannot be approved</h2>
          <ul>
            {review.Problems.map((p, i) => (
              <li key={i}>
                <code className="error-code">{displayText(p.Code)}</code> {displayText(p.Message)}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <div className="airgap-columns">
        <section aria-labelledby={`${id}-key`}>
          <h2 id={`${id}-key`}>Key</h2>
          <dl className="facts" data-testid="airgap-key">
            <dt>Named in the request</dt>
            <dd>
              <code>{displayText(key.Reference)}</code>
            </dd>
            <dt>Aliases</dt>
            <dd data-testid="airgap-aliases">{key.Aliases && key.Aliases.length > 0 ? key.Aliases.map(displayText).join(', ') : <span className="muted">none</span>}</dd>
            <dt>KeyId</dt>
            <dd>{key.KeyId !== undefined ? <code data-testid="airgap-key-id">{key.KeyId}</code> : <span className="error">not in this vault</span>}</dd>
            <dt>Key version</dt>
            <dd>
              {key.KeyVersionId !== undefined ? (
                <>
                  <code data-testid="airgap-key-version">{key.KeyVersionId}</code>{' '}
                  <span className="muted">{key.Newest === true ? '(the newest: the request named no version)' : '(named in the request)'}</span>
                </>
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
            <dt>Spec</dt>
            <dd data-testid="airgap-key-spec">{key.KeySpec ?? <span className="muted">unknown</span>}</dd>
            <dt>State</dt>
            <dd>{key.KeyState !== undefined ? <span className={`badge ${key.KeyState}`}>{key.KeyState}</span> : <span className="muted">unknown</span>}</dd>
            {key.Description ? (
              <>
                <dt>Description</dt>
                <dd>{displayText(key.Description)}</dd>
              </>
            ) : null}
            <dt>SPKI SHA-256</dt>
            <dd>{key.SpkiSha256 !== undefined ? <code className="digest" data-testid="airgap-spki">{key.SpkiSha256}</code> : <span className="muted">unknown</span>}</dd>
            {key.FormatFingerprint !== undefined ? (
              <>
                <dt>Fingerprint</dt>
                <dd>
                  <code className="digest" data-testid="airgap-fingerprint">
                    {key.FormatFingerprint}
                  </code>
                </dd>
              </>
            ) : null}
            <dt>Pinned</dt>
            <dd>{key.Pinned === true ? 'yes: the request names this public key' : <span className="muted">no: the request names the key only</span>}</dd>
          </dl>
        </section>
        <section aria-labelledby={`${id}-format`}>
          <h2 id={`${id}-format`}>Format</h2>
          <dl className="facts" data-testid="airgap-format">
            <dt>Format</dt>
            <dd>
              <strong>{review.Format}</strong> <span className="muted">— {FORMAT_NAMES[review.Format]}</span>
            </dd>
            {optionFacts(review).map(([label, value]) => (
              <OptionFact key={label} label={label} value={value} />
            ))}
          </dl>
          {review.Csr ? (
            <>
              <h3>Certificate to issue</h3>
              <dl className="facts" data-testid="airgap-csr">
                <dt>Subject</dt>
                <dd>{displayText(review.Csr.Subject)}</dd>
                <dt>Subject alt names</dt>
                <dd>{review.Csr.SubjectAltNames.length > 0 ? review.Csr.SubjectAltNames.map(displayText).join(', ') : <span className="muted">none</span>}</dd>
                <dt>Key usages</dt>
                <dd>{review.Csr.KeyUsages.length > 0 ? review.Csr.KeyUsages.join(', ') : <span className="muted">none</span>}</dd>
                <dt>Extended key usages</dt>
                <dd>{review.Csr.ExtendedKeyUsages.length > 0 ? review.Csr.ExtendedKeyUsages.join(', ') : <span className="muted">none</span>}</dd>
                <dt>Public key</dt>
                <dd>{review.Csr.PublicKeySpec}</dd>
                <dt>Validity</dt>
                <dd>{review.Csr.ValidityDays} days</dd>
                <dt>CA</dt>
                <dd>{review.Csr.IsCa ? 'yes: it may issue certificates' : 'no'}</dd>
              </dl>
            </>
          ) : null}
          <h3>Note</h3>
          {review.Note !== undefined && review.Note !== '' ? <NoteText note={review.Note} /> : <p className="muted">No note.</p>}
        </section>
      </div>

      <section aria-labelledby={`${id}-files`}>
        <h2 id={`${id}-files`}>
          {review.Files.length} file{review.Files.length === 1 ? '' : 's'}, {humanSize(review.TotalSize)} in all
          {review.TotalSize >= 1024 ? (
            <>
              {' '}
              <span className="muted" data-testid="airgap-total">
                ({exactSize(review.TotalSize)})
              </span>
            </>
          ) : null}
        </h2>
        <table className="airgap-files" data-testid="airgap-files">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
            </tr>
          </thead>
          <tbody>
            {review.Files.map((f, i) => (
              <tr key={i} data-testid="airgap-file">
                <td className="airgap-file-name">{displayText(f.Name)}</td>
                <td className="airgap-file-size">
                  {humanSize(f.Size)}
                  {f.Size >= 1024 ? (
                    <>
                      <br />
                      <span className="muted">{exactSize(f.Size)}</span>
                    </>
                  ) : null}
                </td>
                <td>
                  <code className="digest">{f.Sha256}</code>
                  {f.Bound ? null : (
                    <p className="warning airgap-unbound" data-testid="airgap-unbound">
                      {UNBOUND_WARNING}
                    </p>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <div className="row airgap-decision">
        <label className="airgap-window" htmlFor={`${id}-window`}>
          Window (oldest request accepted)
          <select id={`${id}-window`} value={windowHours} disabled={busy} onChange={(e) => onWindow(Number(e.target.value))}>
            {WINDOW_CHOICES.some((c) => c.hours === windowHours) ? null : <option value={windowHours}>{windowHours} hours</option>}
            {WINDOW_CHOICES.map((c) => (
              <option key={c.hours} value={c.hours}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row airgap-decision">
        <button type="button" className="primary" disabled={busy || blocked} onClick={onApprove} aria-describedby={blocked ? undefined : `${id}-approve-hint`}>
          Approve and sign
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => setConfirmReject(true)}>
          Reject
        </button>
        <button type="button" disabled={busy} onClick={onCancel}>
          Load another request
        </button>
        {blocked ? null : (
          <span id={`${id}-approve-hint`} className="muted hint">
            Signs {review.Files.length} file{review.Files.length === 1 ? '' : 's'} with this key, audited with request {review.RequestId}.
          </span>
        )}
      </div>
      {busy ? <ProgressBar label="Working" /> : null}
      <ErrorLine error={error} />
      <Dialog title="Reject this request?" open={confirmReject} onClose={() => setConfirmReject(false)} testId="airgap-reject-dialog">
        <p>Nothing is signed; the rejection is recorded in the audit log with request {review.RequestId}.</p>
        <div className="row">
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() =>
              void onReject().then(() => {
                setConfirmReject(false);
              })
            }
          >
            Reject request
          </button>
          <button type="button" onClick={() => setConfirmReject(false)}>
            Keep reviewing
          </button>
        </div>
      </Dialog>
    </section>
  );
}

function OptionFact({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}

// The offline-CA dialogs of one key version: Self-sign (root CA) with CreateSelfSignedCertificate
// (the vault attaches the root to the version), Issue from CSR with IssueCertificate (the version
// must hold its CA certificate), and Attach certificate with AttachCertificate (a PEM chain whose
// first certificate is this version's). Every signature is made inside the key worker.
import { useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { describeError, kms } from '../../api/bridge.ts';
import { saveFile } from '../../lib/save.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { Dialog, ErrorLine, ProgressBar } from '../common.tsx';
import { publicKeyFileStem } from '../keys/format.ts';
import { PemInput } from './PemInput.tsx';
import { composeSubject, subjectProblem, type SubjectFields } from './subject.ts';

type Failure = { code: string; message: string } | undefined;

interface VersionProps {
  readonly open: boolean;
  readonly onClose: () => void;
  readonly keySummary: KeySummary;
  readonly keyVersionId: string;
  /** Called after the vault accepted the call (the certificate list reloads). */
  readonly onChanged: () => void;
}

const RSA_ALGORITHMS = [
  { value: 'RSA_PKCS1_SHA_256', label: 'sha256WithRSAEncryption (PKCS#1 v1.5)' },
  { value: 'RSA_PSS_SHA_256', label: 'RSASSA-PSS with SHA-256' },
] as const;

function AlgorithmChoice({ spec, value, onChange }: { spec: string; value: string; onChange: (v: string) => void }) {
  if (!spec.startsWith('RSA_')) return null;
  return (
    <label>
      Signature algorithm
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {RSA_ALGORITHMS.map((a) => (
          <option key={a.value} value={a.value}>
            {a.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,6}$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : undefined;
}

function PemResult({ label, pem, fileName, extra }: { label: string; pem: string; fileName: string; extra?: { label: string; pem: string; fileName: string } }) {
  return (
    <div className="stack">
      <label>
        {label}
        <textarea className="pem-text" readOnly value={pem} spellCheck={false} />
      </label>
      <div className="row">
        <button type="button" className="primary" onClick={() => saveFile(fileName, pem, 'application/x-pem-file')}>
          Save {fileName}
        </button>
        {extra ? (
          <button type="button" onClick={() => saveFile(extra.fileName, extra.pem, 'application/x-pem-file')}>
            Save {extra.fileName}
          </button>
        ) : null}
      </div>
    </div>
  );
}

export function SelfSignDialog(props: VersionProps) {
  return (
    <Dialog title="Self-sign (root CA)" open={props.open} onClose={props.onClose} testId="self-sign-dialog">
      <SelfSignForm {...props} />
    </Dialog>
  );
}

function SelfSignForm({ keySummary, keyVersionId, onClose, onChanged }: VersionProps) {
  const [fields, setFields] = useState<SubjectFields>({});
  const [days, setDays] = useState('3650');
  const [pathLen, setPathLen] = useState('');
  const [algorithm, setAlgorithm] = useState('RSA_PKCS1_SHA_256');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure>(undefined);
  const [certificate, setCertificate] = useState<string | undefined>(undefined);
  const subject = composeSubject(fields);
  const problem =
    subjectProblem(fields) ||
    (wholeNumber(days, 1, 36500) === undefined ? 'Validity must be 1 to 36500 days.' : '') ||
    (pathLen.trim() !== '' && wholeNumber(pathLen, 0, 100) === undefined ? 'Path length must be 0 to 100, or empty for no limit.' : '');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await kms<{ Certificate: string }>('CreateSelfSignedCertificate', {
        KeyId: keySummary.KeyId,
        KeyVersionId: keyVersionId,
        Subject: subject,
        ValidityDays: Number(days.trim()),
        ...(pathLen.trim() !== '' ? { PathLen: Number(pathLen.trim()) } : {}),
        ...(keySummary.KeySpec.startsWith('RSA_') ? { Algorithm: algorithm } : {}),
      });
      setCertificate(r.Certificate);
      useUiStore.getState().notify('ok', `Root certificate ${subject} created and attached to the version`);
      onChanged();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  if (certificate) {
    return (
      <div className="stack">
        <PemResult label="Root certificate (PEM)" pem={certificate} fileName={`${publicKeyFileStem(keySummary, keyVersionId)}-root.pem`} />
        <div className="row">
          <button type="button" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    );
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <p className="muted hint">A CA certificate (CA:TRUE, keyCertSign, cRLSign) for this version, signed by itself and attached to it.</p>
      <div className="csr-grid">
        {(['CN', 'O', 'OU', 'C'] as const).map((name) => (
          <label key={name}>
            {name === 'CN' ? 'Common name (CN)' : name === 'O' ? 'Organization (O)' : name === 'OU' ? 'Organizational unit (OU)' : 'Country (C, two letters)'}
            <input type="text" value={fields[name] ?? ''} onChange={(e) => setFields({ ...fields, [name]: e.target.value })} disabled={busy} />
          </label>
        ))}
        <label>
          Validity (days)
          <input type="text" inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} disabled={busy} />
        </label>
        <label>
          Path length (optional)
          <input type="text" inputMode="numeric" value={pathLen} onChange={(e) => setPathLen(e.target.value)} disabled={busy} />
        </label>
      </div>
      <AlgorithmChoice spec={keySummary.KeySpec} value={algorithm} onChange={setAlgorithm} />
      <p className={problem ? 'error' : 'muted hint'}>{problem || <>Subject: <code>{subject}</code></>}</p>
      <div className="row">
        <button type="submit" className="primary" disabled={busy || problem !== ''}>
          Create root certificate
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
      {busy ? <ProgressBar label="Signing the certificate in the vault" /> : null}
      <ErrorLine error={error} />
    </form>
  );
}

export function IssueDialog(props: VersionProps) {
  return (
    <Dialog title="Issue certificate from CSR" open={props.open} onClose={props.onClose} testId="issue-dialog">
      <IssueForm {...props} />
    </Dialog>
  );
}

function IssueForm({ keySummary, keyVersionId, onClose, onChanged }: VersionProps) {
  const [csr, setCsr] = useState('');
  const [days, setDays] = useState('365');
  const [policy, setPolicy] = useState<'copy-requested-extensions' | 'leaf-defaults'>('copy-requested-extensions');
  const [isCa, setIsCa] = useState(false);
  const [pathLen, setPathLen] = useState('');
  const [algorithm, setAlgorithm] = useState('RSA_PKCS1_SHA_256');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure>(undefined);
  const [issued, setIssued] = useState<{ Certificate: string; CertificateChain: string } | undefined>(undefined);
  const problem =
    (!csr.includes('-----BEGIN CERTIFICATE REQUEST-----') ? 'Paste or load a PEM certificate signing request.' : '') ||
    (wholeNumber(days, 1, 36500) === undefined ? 'Validity must be 1 to 36500 days.' : '') ||
    (isCa && pathLen.trim() !== '' && wholeNumber(pathLen, 0, 100) === undefined ? 'Path length must be 0 to 100, or empty for no limit.' : '');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await kms<{ Certificate: string; CertificateChain: string }>('IssueCertificate', {
        KeyId: keySummary.KeyId,
        KeyVersionId: keyVersionId,
        Csr: csr,
        ValidityDays: Number(days.trim()),
        Policy: policy,
        IsCa: isCa,
        ...(isCa && pathLen.trim() !== '' ? { PathLen: Number(pathLen.trim()) } : {}),
        ...(keySummary.KeySpec.startsWith('RSA_') ? { Algorithm: algorithm } : {}),
      });
      setIssued({ Certificate: r.Certificate, CertificateChain: r.CertificateChain });
      useUiStore.getState().notify('ok', 'Certificate issued');
      onChanged();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  if (issued) {
    const stem = `issued-by-${publicKeyFileStem(keySummary, keyVersionId)}`;
    return (
      <div className="stack">
        <PemResult
          label="Issued certificate and chain (PEM)"
          pem={issued.CertificateChain}
          fileName={`${stem}-chain.pem`}
          extra={{ label: 'Certificate', pem: issued.Certificate, fileName: `${stem}.pem` }}
        />
        <div className="row">
          <button type="button" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    );
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <PemInput
        label="Certificate signing request (PEM)"
        fileLabel="Load CSR file"
        accept=".csr,.pem,.req,text/plain"
        value={csr}
        onChange={setCsr}
        placeholder="-----BEGIN CERTIFICATE REQUEST-----"
        disabled={busy}
      />
      <div className="row">
        <label>
          Validity (days)
          <input type="text" inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} disabled={busy} />
        </label>
        <label>
          Extension policy
          <select value={policy} onChange={(e) => setPolicy(e.target.value as typeof policy)} disabled={busy}>
            <option value="copy-requested-extensions">Copy the requested extensions</option>
            <option value="leaf-defaults">Leaf defaults (ignore requested usages)</option>
          </select>
        </label>
      </div>
      <label className="choice">
        <input type="checkbox" checked={isCa} onChange={(e) => setIsCa(e.target.checked)} disabled={busy} />
        <span>Intermediate CA certificate (CA:TRUE)</span>
      </label>
      {isCa ? (
        <label>
          Path length (optional)
          <input type="text" inputMode="numeric" value={pathLen} onChange={(e) => setPathLen(e.target.value)} disabled={busy} />
        </label>
      ) : null}
      <AlgorithmChoice spec={keySummary.KeySpec} value={algorithm} onChange={setAlgorithm} />
      {problem ? <p className="muted hint">{problem}</p> : null}
      <div className="row">
        <button type="submit" className="primary" disabled={busy || problem !== ''}>
          Issue certificate
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
      {busy ? <ProgressBar label="Signing the certificate in the vault" /> : null}
      <ErrorLine error={error} />
    </form>
  );
}

export function AttachDialog(props: VersionProps) {
  return (
    <Dialog title="Attach certificate" open={props.open} onClose={props.onClose} testId="attach-dialog">
      <AttachForm {...props} />
    </Dialog>
  );
}

function AttachForm({ keySummary, keyVersionId, onClose, onChanged }: VersionProps) {
  const [chain, setChain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure>(undefined);
  const problem = chain.includes('-----BEGIN CERTIFICATE-----') ? '' : 'Paste or load PEM certificates, this version’s own first.';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await kms<{ CertificateCount: number }>('AttachCertificate', { KeyId: keySummary.KeyId, KeyVersionId: keyVersionId, CertificateChain: chain });
      useUiStore.getState().notify('ok', `Attached ${r.CertificateCount} certificate${r.CertificateCount === 1 ? '' : 's'} to the version`);
      onChanged();
      onClose();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <p className="muted hint">Replaces the version’s attached chain. The first certificate must hold this version’s public key.</p>
      <PemInput
        label="Certificate chain (PEM)"
        fileLabel="Load certificate file"
        accept=".pem,.crt,.cer,text/plain"
        value={chain}
        onChange={setChain}
        placeholder="-----BEGIN CERTIFICATE-----"
        disabled={busy}
      />
      {problem ? <p className="muted hint">{problem}</p> : null}
      <div className="row">
        <button type="submit" className="primary" disabled={busy || problem !== ''}>
          Attach
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
      <ErrorLine error={error} />
    </form>
  );
}

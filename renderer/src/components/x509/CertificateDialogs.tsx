// The offline-CA dialogs of one key version: Self-sign (root CA) with CreateSelfSignedCertificate
// (the vault attaches the root to the version), Issue from CSR with IssueCertificate (the version
// must hold its CA certificate), and Attach certificate with AttachCertificate (a PEM chain whose
// first certificate is this version's). Every signature is made inside the key worker.
import { useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import type { ActionResponse } from '../../../../core/contract/responses.ts';
import { kms } from '../../api/bridge.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { Dialog, FormEnd, useTask } from '../common.tsx';
import { publicKeyFileStem } from '../keys/format.ts';
import { AlgorithmChoice, NumberField, PemResult, SubjectInputs, SubjectLine } from './fields.tsx';
import { PemInput } from './PemInput.tsx';
import { composeSubject, pathLenParam, pathLenProblem, subjectProblem, validityProblem, type SubjectFields } from './subject.ts';

interface VersionProps {
  readonly open: boolean;
  readonly onClose: () => void;
  readonly keySummary: KeySummary;
  readonly keyVersionId: string;
  /** Called after the vault accepted the call (the certificate list reloads). */
  readonly onChanged: () => void;
}

const PEM = 'application/x-pem-file';
const SIGNING = 'Signing the certificate in the vault';

/** The Algorithm parameter: RSA keys only (the others have one signature algorithm). */
function algorithmParam(spec: string, algorithm: string): { Algorithm?: string } {
  return spec.startsWith('RSA_') ? { Algorithm: algorithm } : {};
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
  const task = useTask();
  const [certificate, setCertificate] = useState<string | undefined>(undefined);
  const subject = composeSubject(fields);
  const problem = subjectProblem(fields) || validityProblem(days) || pathLenProblem(pathLen);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || task.busy) return;
    await task.run(async () => {
      const r = await kms('CreateSelfSignedCertificate', {
        KeyId: keySummary.KeyId,
        KeyVersionId: keyVersionId,
        Subject: subject,
        ValidityDays: Number(days.trim()),
        ...pathLenParam(pathLen),
        ...algorithmParam(keySummary.KeySpec, algorithm),
      });
      setCertificate(r.Certificate);
      useUiStore.getState().notify('ok', `Root certificate ${subject} created and attached to the version`);
      onChanged();
    });
  }

  if (certificate) {
    return (
      <div className="stack">
        <PemResult
          label="Root certificate (PEM)"
          pem={certificate}
          saves={[{ fileName: `${publicKeyFileStem(keySummary, keyVersionId)}-root.pem`, content: certificate, type: PEM }]}
          onDone={onClose}
        />
      </div>
    );
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <p className="muted hint">A CA certificate (CA:TRUE, keyCertSign, cRLSign) for this version, signed by itself and attached to it.</p>
      <div className="csr-grid">
        <SubjectInputs fields={fields} onChange={setFields} names={['CN', 'O', 'OU', 'C']} disabled={task.busy} />
        <NumberField label="Validity (days)" value={days} onChange={setDays} disabled={task.busy} />
        <NumberField label="Path length (optional)" value={pathLen} onChange={setPathLen} disabled={task.busy} />
      </div>
      <AlgorithmChoice spec={keySummary.KeySpec} value={algorithm} onChange={setAlgorithm} />
      <SubjectLine problem={problem} subject={subject} />
      <FormEnd submit="Create root certificate" problem={problem} onCancel={onClose} busy={task.busy} progress={SIGNING} error={task.error} />
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
  const task = useTask();
  const [issued, setIssued] = useState<Pick<ActionResponse<'IssueCertificate'>, 'Certificate' | 'CertificateChain'> | undefined>(undefined);
  const problem =
    (!csr.includes('-----BEGIN CERTIFICATE REQUEST-----') ? 'Paste or load a PEM certificate signing request.' : '') ||
    validityProblem(days) ||
    (isCa ? pathLenProblem(pathLen) : '');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || task.busy) return;
    await task.run(async () => {
      const r = await kms('IssueCertificate', {
        KeyId: keySummary.KeyId,
        KeyVersionId: keyVersionId,
        Csr: csr,
        ValidityDays: Number(days.trim()),
        Policy: policy,
        IsCa: isCa,
        ...(isCa ? pathLenParam(pathLen) : {}),
        ...algorithmParam(keySummary.KeySpec, algorithm),
      });
      setIssued({ Certificate: r.Certificate, CertificateChain: r.CertificateChain });
      useUiStore.getState().notify('ok', 'Certificate issued');
      onChanged();
    });
  }

  if (issued) {
    const stem = `issued-by-${publicKeyFileStem(keySummary, keyVersionId)}`;
    return (
      <div className="stack">
        <PemResult
          label="Issued certificate and chain (PEM)"
          pem={issued.CertificateChain}
          saves={[
            { fileName: `${stem}-chain.pem`, content: issued.CertificateChain, type: PEM },
            { fileName: `${stem}.pem`, content: issued.Certificate, type: PEM },
          ]}
          onDone={onClose}
        />
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
        disabled={task.busy}
      />
      <div className="row">
        <NumberField label="Validity (days)" value={days} onChange={setDays} disabled={task.busy} />
        <label>
          Extension policy
          <select value={policy} onChange={(e) => setPolicy(e.target.value as typeof policy)} disabled={task.busy}>
            <option value="copy-requested-extensions">Copy the requested extensions</option>
            <option value="leaf-defaults">Leaf defaults (ignore requested usages)</option>
          </select>
        </label>
      </div>
      <label className="choice">
        <input type="checkbox" checked={isCa} onChange={(e) => setIsCa(e.target.checked)} disabled={task.busy} />
        <span>Intermediate CA certificate (CA:TRUE)</span>
      </label>
      {isCa ? <NumberField label="Path length (optional)" value={pathLen} onChange={setPathLen} disabled={task.busy} /> : null}
      <AlgorithmChoice spec={keySummary.KeySpec} value={algorithm} onChange={setAlgorithm} />
      {problem ? <p className="muted hint">{problem}</p> : null}
      <FormEnd submit="Issue certificate" problem={problem} onCancel={onClose} busy={task.busy} progress={SIGNING} error={task.error} />
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
  const task = useTask();
  const problem = chain.includes('-----BEGIN CERTIFICATE-----') ? '' : 'Paste or load PEM certificates, this version’s own first.';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problem || task.busy) return;
    const ok = await task.run(async () => {
      const r = await kms('AttachCertificate', { KeyId: keySummary.KeyId, KeyVersionId: keyVersionId, CertificateChain: chain });
      useUiStore.getState().notify('ok', `Attached ${r.CertificateCount} certificate${r.CertificateCount === 1 ? '' : 's'} to the version`);
      onChanged();
    });
    if (ok) onClose();
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
        disabled={task.busy}
      />
      {problem ? <p className="muted hint">{problem}</p> : null}
      <FormEnd submit="Attach" problem={problem} onCancel={onClose} busy={task.busy} error={task.error} />
    </form>
  );
}

// CSR wizard for one version of a SIGN/VERIFY key: subject fields, subject alternative names,
// requested keyUsage / extendedKeyUsage / basicConstraints and (RSA) the signature algorithm;
// then a preview of exactly what will be sent; then the PEM from CreateCertificateSigningRequest
// (signed inside the key worker) with Copy and Save (.csr). Only metadata lives in this state.
import { useState, type FocusEvent, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import type { ActionParams } from '../../../../core/contract/actions.ts';
import { kms } from '../../api/bridge.ts';
import { copyText } from '../../lib/save.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { Dialog, ErrorLine, ProgressBar, useTask } from '../common.tsx';
import { publicKeyFileStem } from '../keys/format.ts';
import { AlgorithmChoice, NumberField, PemResult, RSA_ALGORITHMS, SubjectInputs, SubjectLine } from './fields.tsx';
import {
  EXTENDED_KEY_USAGES,
  KEY_USAGE_BITS,
  SAN_TYPES,
  composeSubject,
  pathLenParam,
  pathLenProblem,
  sanStrings,
  subjectProblem,
  type SanRow,
  type SanType,
  type SubjectFields,
} from './subject.ts';

type BasicChoice = 'none' | 'end-entity' | 'ca';

function signatureName(spec: string, algorithm: string): string {
  if (spec.startsWith('RSA_')) return RSA_ALGORITHMS.find((a) => a.value === algorithm)?.label ?? algorithm;
  if (spec === 'EC_SM2') return 'SM2-with-SM3 (ID 1234567812345678)';
  return 'ecdsa-with-SHA256';
}

export function CsrWizard({ open, onClose, keySummary, keyVersionId }: { open: boolean; onClose: () => void; keySummary: KeySummary; keyVersionId: string }) {
  return (
    <Dialog title="Create certificate signing request" open={open} onClose={onClose} testId="csr-wizard">
      <CsrForm keySummary={keySummary} keyVersionId={keyVersionId} onDone={onClose} />
    </Dialog>
  );
}

let nextRowId = 1;

/** Whether focus left the group (not just moved from one of its fields to another). */
function leftGroup(event: FocusEvent<HTMLElement>): boolean {
  return !(event.relatedTarget instanceof Node && event.currentTarget.contains(event.relatedTarget));
}

function CsrForm({ keySummary, keyVersionId, onDone }: { keySummary: KeySummary; keyVersionId: string; onDone: () => void }) {
  const isRsa = keySummary.KeySpec.startsWith('RSA_');
  const [step, setStep] = useState<'form' | 'preview' | 'result'>('form');
  const [fields, setFields] = useState<SubjectFields>({});
  const [sans, setSans] = useState<SanRow[]>([]);
  const [keyUsage, setKeyUsage] = useState<string[]>([]);
  const [extKeyUsage, setExtKeyUsage] = useState<string[]>([]);
  const [otherOids, setOtherOids] = useState('');
  const [basic, setBasic] = useState<BasicChoice>('none');
  const [pathLen, setPathLen] = useState('');
  const [algorithm, setAlgorithm] = useState<string>('RSA_PKCS1_SHA_256');
  const task = useTask();
  const [csr, setCsr] = useState<string | undefined>(undefined);
  // Problems are said once the user has left a field of the group, or pressed Preview: never on an untouched form.
  const [touched, setTouched] = useState<{ subject: boolean; basic: boolean }>({ subject: false, basic: false });
  const [submitted, setSubmitted] = useState(false);

  const subject = composeSubject(fields);
  const problem = subjectProblem(fields);
  const oids = otherOids
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const allEku = [...extKeyUsage, ...oids];
  const pathProblem = basic === 'ca' ? pathLenProblem(pathLen) : '';

  const params: ActionParams<'CreateCertificateSigningRequest'> = {
    KeyId: keySummary.KeyId,
    KeyVersionId: keyVersionId,
    Subject: subject,
    ...(sanStrings(sans).length > 0 ? { SubjectAlternativeNames: sanStrings(sans) } : {}),
    ...(keyUsage.length > 0 ? { KeyUsage: keyUsage } : {}),
    ...(allEku.length > 0 ? { ExtendedKeyUsage: allEku } : {}),
    ...(basic !== 'none' ? { BasicConstraints: { CA: basic === 'ca', ...(basic === 'ca' ? pathLenParam(pathLen) : {}) } } : {}),
    ...(isRsa ? { Algorithm: algorithm } : {}),
  };

  function toggle(list: string[], set: (next: string[]) => void, name: string, on: boolean) {
    set(on ? [...list, name] : list.filter((n) => n !== name));
  }

  function preview(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (problem || pathProblem) return;
    task.setError(undefined);
    setStep('preview');
  }

  async function create() {
    await task.run(async () => {
      const r = await kms('CreateCertificateSigningRequest', params);
      setCsr(r.Csr);
      setStep('result');
      useUiStore.getState().notify('ok', `Certificate signing request for ${subject} created`);
    });
  }

  if (step === 'result' && csr) {
    const name = `${publicKeyFileStem(keySummary, keyVersionId)}.csr`;
    return (
      <div className="stack csr-wizard">
        <p className="ok" role="status">
          Signed inside the vault by version <code>{keyVersionId}</code>.
        </p>
        <PemResult label="Certificate signing request (PEM)" pem={csr} saves={[{ fileName: name, content: csr, type: 'application/pkcs10' }]} onDone={onDone}>
          <button
            type="button"
            onClick={() =>
              void copyText(csr).then((ok) =>
                ok ? useUiStore.getState().notify('ok', 'CSR copied to the clipboard') : useUiStore.getState().notify('error', 'The clipboard refused the text: use Save instead'),
              )
            }
          >
            Copy CSR
          </button>
        </PemResult>
      </div>
    );
  }

  if (step === 'preview') {
    return (
      <div className="stack csr-wizard">
        <h3>Preview</h3>
        <dl className="facts" aria-label="Request preview">
          <dt>Subject</dt>
          <dd>
            <code data-testid="csr-subject">{subject}</code>
          </dd>
          <dt>Alternative names</dt>
          <dd>{sanStrings(sans).join(', ') || 'none'}</dd>
          <dt>Key usage</dt>
          <dd>{keyUsage.join(', ') || 'not requested'}</dd>
          <dt>Extended key usage</dt>
          <dd>{allEku.join(', ') || 'not requested'}</dd>
          <dt>Basic constraints</dt>
          <dd>{basic === 'none' ? 'not requested' : basic === 'ca' ? `CA:TRUE${pathLen.trim() ? `, pathlen:${pathLen.trim()}` : ''}` : 'CA:FALSE'}</dd>
          <dt>Signature</dt>
          <dd>{signatureName(keySummary.KeySpec, algorithm)}</dd>
          <dt>Signed by</dt>
          <dd>
            {keySummary.KeySpec} version <code>{keyVersionId}</code>
          </dd>
        </dl>
        <div className="row">
          <button type="button" onClick={() => setStep('form')} disabled={task.busy}>
            Back
          </button>
          <button type="button" className="primary" onClick={() => void create()} disabled={task.busy}>
            Create CSR
          </button>
        </div>
        {task.busy ? <ProgressBar label="Signing the request in the vault" /> : null}
        <ErrorLine error={task.error} />
      </div>
    );
  }

  return (
    <form className="stack csr-wizard" onSubmit={preview}>
      <fieldset onBlur={(e) => leftGroup(e) && setTouched((t) => (t.subject ? t : { ...t, subject: true }))}>
        <legend>Subject</legend>
        <div className="csr-grid">
          <SubjectInputs fields={fields} onChange={setFields} />
        </div>
        <SubjectLine problem={submitted || touched.subject ? problem : ''} subject={subject} />
      </fieldset>
      <fieldset>
        <legend>Subject alternative names</legend>
        {sans.length === 0 ? <p className="muted hint">None.</p> : null}
        {sans.map((row, i) => {
          const kind = SAN_TYPES.find((t) => t.type === row.type)!;
          return (
            <div className="row san-row" key={row.id}>
              <select aria-label={`Name type ${i + 1}`} value={row.type} onChange={(e) => setSans(sans.map((r) => (r.id === row.id ? { ...r, type: e.target.value as SanType } : r)))}>
                {SAN_TYPES.map((t) => (
                  <option key={t.type} value={t.type}>
                    {t.label}
                  </option>
                ))}
              </select>
              <input
                type="text"
                aria-label={`Name value ${i + 1}`}
                placeholder={kind.placeholder}
                value={row.value}
                onChange={(e) => setSans(sans.map((r) => (r.id === row.id ? { ...r, value: e.target.value } : r)))}
              />
              <button type="button" aria-label={`Remove name ${i + 1}`} onClick={() => setSans(sans.filter((r) => r.id !== row.id))}>
                Remove
              </button>
            </div>
          );
        })}
        <div className="row">
          <button type="button" onClick={() => setSans([...sans, { id: nextRowId++, type: 'DNS', value: '' }])} disabled={sans.length >= 100}>
            Add name
          </button>
        </div>
      </fieldset>
      <fieldset>
        <legend>Requested key usage</legend>
        <div className="check-grid">
          {KEY_USAGE_BITS.map((bit) => (
            <label className="choice" key={bit}>
              <input type="checkbox" checked={keyUsage.includes(bit)} onChange={(e) => toggle(keyUsage, setKeyUsage, bit, e.target.checked)} />
              <span>{bit}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Requested extended key usage</legend>
        <div className="check-grid">
          {EXTENDED_KEY_USAGES.map((eku) => (
            <label className="choice" key={eku}>
              <input type="checkbox" checked={extKeyUsage.includes(eku)} onChange={(e) => toggle(extKeyUsage, setExtKeyUsage, eku, e.target.checked)} />
              <span>{eku}</span>
            </label>
          ))}
        </div>
        <label>
          Other OIDs (dotted, comma-separated)
          <input type="text" value={otherOids} placeholder="1.3.6.1.5.5.7.3.17" onChange={(e) => setOtherOids(e.target.value)} />
        </label>
      </fieldset>
      <fieldset onBlur={(e) => leftGroup(e) && setTouched((t) => (t.basic ? t : { ...t, basic: true }))}>
        <legend>Requested basic constraints</legend>
        <div className="row">
          <label>
            Basic constraints
            <select value={basic} onChange={(e) => setBasic(e.target.value as BasicChoice)}>
              <option value="none">Not requested</option>
              <option value="end-entity">End entity (CA:FALSE)</option>
              <option value="ca">Certificate authority (CA:TRUE)</option>
            </select>
          </label>
          {basic === 'ca' ? (
            <NumberField label="Path length (optional)" value={pathLen} onChange={setPathLen} invalid={(submitted || touched.basic) && pathProblem !== ''} />
          ) : null}
        </div>
        {pathProblem && (submitted || touched.basic) ? <p className="error">{pathProblem}</p> : null}
      </fieldset>
      {isRsa ? (
        <AlgorithmChoice spec={keySummary.KeySpec} value={algorithm} onChange={setAlgorithm} />
      ) : (
        <p className="muted hint">Signature: {signatureName(keySummary.KeySpec, algorithm)}</p>
      )}
      <div className="row">
        <button type="submit" className="primary">
          Preview
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

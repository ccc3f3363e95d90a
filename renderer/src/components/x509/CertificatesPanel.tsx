// One key version's certificates (from Keys.Detail's GetCertificates answer for it: subject,
// issuer, serial, validity, CA flag) with Save PEM per certificate and for the whole chain, and the
// entry points of the CSR wizard and the offline-CA dialogs. Signing entry points appear only for
// SIGN/VERIFY keys holding private material (not public-key-only keys). A certificate made or
// attached here reads the key's detail again.
import { useCallback, useState } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { saveFile } from '../../lib/save.ts';
import { ErrorLine } from '../common.tsx';
import { formatUtc, publicKeyFileStem } from '../keys/format.ts';
import { useKeyDetail, useVersionDetail } from '../keys/key-detail-data.ts';
import { AttachDialog, IssueDialog, SelfSignDialog } from './CertificateDialogs.tsx';
import { CsrWizard } from './CsrWizard.tsx';

type Open = 'none' | 'csr' | 'self-sign' | 'issue' | 'attach';

export function CertificatesPanel({ keySummary, keyVersionId, versionLabel }: { keySummary: KeySummary; keyVersionId: string; versionLabel: string }) {
  const version = useVersionDetail(keyVersionId);
  const reload = useKeyDetail().refresh;
  const certificates = version?.Certificates;
  const error = version?.CertificatesError ? { code: version.CertificatesError.Code, message: version.CertificatesError.Message } : undefined;
  const [open, setOpen] = useState<Open>('none');
  const close = useCallback(() => setOpen('none'), []);

  const signs = keySummary.KeyUsage === 'SIGN/VERIFY' && keySummary.Origin !== 'EXTERNAL_PUBLIC_KEY';
  const enabled = keySummary.KeyState === 'Enabled';
  const hasCa = certificates?.[0]?.IsCa === true;
  const stem = publicKeyFileStem(keySummary, keyVersionId);
  const common = { keySummary, keyVersionId, onClose: close, onChanged: reload };

  return (
    // A group, not a region: the version itself is the region named "Version N".
    <div className="certificates stack" role="group" aria-label={`Certificates of ${versionLabel}`}>
      <div className="row section-head">
        <h4>Certificates</h4>
        {certificates && certificates.length > 0 ? (
          <button type="button" onClick={() => saveFile(`${stem}-chain.pem`, certificates.map((c) => c.Pem).join(''), 'application/x-pem-file')}>
            Save chain PEM
          </button>
        ) : null}
      </div>
      <ErrorLine error={error} />
      {certificates === undefined && !error ? <p className="muted hint">Loading certificates…</p> : null}
      {certificates?.length === 0 ? <p className="muted hint">No certificate attached.</p> : null}
      {certificates && certificates.length > 0 ? (
        <ol className="cert-list" aria-label={`Certificate chain of ${versionLabel}`}>
          {certificates.map((c, i) => (
            <li key={`${c.SerialNumber}-${i}`} className="cert-item" aria-label={`Certificate ${i + 1}`}>
              <dl className="facts">
                <dt>Subject</dt>
                <dd data-testid="cert-subject">{c.Subject}</dd>
                <dt>Issuer</dt>
                <dd data-testid="cert-issuer">{c.Issuer}</dd>
                <dt>Serial</dt>
                <dd>
                  <code>{c.SerialNumber}</code>
                </dd>
                <dt>Valid</dt>
                <dd>
                  {formatUtc(c.NotBefore)} to {formatUtc(c.NotAfter)}
                </dd>
                <dt>CA</dt>
                <dd data-testid="cert-ca">{c.IsCa ? 'Yes' : 'No'}</dd>
              </dl>
              <button type="button" aria-label={`Save certificate ${i + 1} PEM`} onClick={() => saveFile(`${stem}-cert${i + 1}.pem`, c.Pem, 'application/x-pem-file')}>
                Save certificate PEM
              </button>
            </li>
          ))}
        </ol>
      ) : null}
      <div className="row" role="group" aria-label={`Certificate actions of ${versionLabel}`}>
        {signs ? (
          <>
            <button type="button" disabled={!enabled} onClick={() => setOpen('csr')}>
              Create CSR…
            </button>
            <button type="button" disabled={!enabled} onClick={() => setOpen('self-sign')}>
              Self-sign (root CA)…
            </button>
            <button
              type="button"
              disabled={!enabled || !hasCa}
              title={hasCa ? 'Sign a certificate for a request with this CA version' : 'Attach or create this version’s CA certificate first'}
              onClick={() => setOpen('issue')}
            >
              Issue from CSR…
            </button>
          </>
        ) : null}
        <button type="button" onClick={() => setOpen('attach')}>
          Attach certificate…
        </button>
      </div>
      {signs && !enabled ? <p className="muted hint">Requests and certificates are signed only by an enabled key.</p> : null}
      {signs && enabled && !hasCa ? <p className="muted hint">Issuing needs a CA certificate on this version: self-sign a root or attach one.</p> : null}
      <CsrWizard open={open === 'csr'} onClose={close} keySummary={keySummary} keyVersionId={keyVersionId} />
      <SelfSignDialog open={open === 'self-sign'} {...common} />
      <IssueDialog open={open === 'issue'} {...common} />
      <AttachDialog open={open === 'attach'} {...common} />
    </div>
  );
}

// What one key version offers besides its public key: its certificates (and the CSR / offline-CA
// dialogs) and, for an Exportable key, the encrypted export of its private key.
import { useState } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { ExportDialog } from '../transfer/ExportDialog.tsx';
import { exportRefusal } from '../transfer/KeyTransfer.tsx';
import { CertificatesPanel } from './CertificatesPanel.tsx';

export function VersionTools({ keySummary, keyVersionId, versionLabel }: { keySummary: KeySummary; keyVersionId: string; versionLabel: string }) {
  const [exporting, setExporting] = useState(false);
  const exportable = exportRefusal(keySummary) === '';
  return (
    <>
      <CertificatesPanel keySummary={keySummary} keyVersionId={keyVersionId} versionLabel={versionLabel} />
      {exportable ? (
        <div className="row">
          <button type="button" disabled={keySummary.KeyState !== 'Enabled'} onClick={() => setExporting(true)}>
            Export private key…
          </button>
          <ExportDialog open={exporting} onClose={() => setExporting(false)} keySummary={keySummary} keyVersionId={keyVersionId} />
        </div>
      ) : null}
    </>
  );
}

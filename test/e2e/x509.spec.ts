// CSRs and certificates end to end through the desktop renderer, with a real vault in the real
// Secret Service and OpenSSL as the peer: the CSR wizard for P-256 and SM2 keys (subject with an
// escaped comma, a DNS name, requested usages), `openssl req -verify` and `-text`; an RSA root
// self-signed in the vault issues a certificate from the saved P-256 request, `openssl verify`
// accepts it, and the chain attached to the P-256 version is listed with subject and issuer.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Locator, Page, TestInfo } from '@playwright/test';
import { createVault, expect, screenshot, test } from './fixtures.ts';
import { createKeyInUi, detail, dismissNotices, download, openKey, opensslText, version } from './key-dialogs.ts';

const SM2_ID = 'distid:1234567812345678';
const certificates = (page: Page, n = 1): Locator => version(page, n).getByRole('group', { name: `Certificates of Version ${n}`, exact: true });

/** Runs the wizard on version 1 of the selected key and saves the CSR; returns its path. */
async function csrThroughWizard(page: Page, testInfo: TestInfo, cn: string, o: string, dns: string, shoot: boolean): Promise<string> {
  await certificates(page).getByRole('button', { name: 'Create CSR…' }).click();
  const wizard = page.getByRole('dialog', { name: 'Create certificate signing request' });
  await expect(wizard).toBeVisible();
  await wizard.getByLabel('Common name (CN)').fill(cn);
  await wizard.getByLabel('Organization (O)').fill(o);
  await wizard.getByRole('button', { name: 'Add name' }).click();
  await expect(wizard.getByLabel('Name type 1')).toHaveValue('DNS');
  await wizard.getByLabel('Name value 1').fill(dns);
  await wizard.getByRole('checkbox', { name: 'digitalSignature' }).check();
  await wizard.getByRole('checkbox', { name: 'serverAuth' }).check();
  await wizard.getByLabel('Basic constraints').selectOption('end-entity');
  if (shoot) {
    // Tall enough for the whole wizard in one picture.
    const size = page.viewportSize()!;
    await page.setViewportSize({ width: size.width, height: 1200 });
    await screenshot(page, testInfo, 'csr-wizard');
    await page.setViewportSize(size);
  }
  await wizard.getByRole('button', { name: 'Preview' }).click();
  const expectedSubject = `CN=${cn},O=${o.replace(/,/g, '\\,')}`;
  await expect(wizard.getByTestId('csr-subject')).toHaveText(expectedSubject);
  await expect(wizard.getByRole('definition').filter({ hasText: `DNS:${dns}` })).toBeVisible();
  await wizard.getByRole('button', { name: 'Create CSR' }).click();
  await expect(wizard.getByLabel('Certificate signing request (PEM)')).toHaveValue(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
  const file = await download(page, wizard.getByRole('button', { name: /^Save .*\.csr$/ }), testInfo);
  await wizard.getByRole('button', { name: 'Done' }).click();
  await expect(wizard).toBeHidden();
  await dismissNotices(page);
  return file;
}

test('CSR wizard (P-256, SM2), self-signed RSA root, certificate issued from the CSR, chain attached and listed', async ({ app: page }, testInfo) => {
  test.setTimeout(240_000);
  await createVault(page, 'keychain');
  let p256Csr = '';

  await test.step('P-256: the wizard escapes the subject, OpenSSL verifies the request and reads its SAN and usages', async () => {
    await createKeyInUi(page, { spec: 'EC_P256', alias: 'alias/x509-p256' });
    await expect(certificates(page)).toContainText('No certificate attached.');
    // Issuing needs a CA certificate on the version first.
    await expect(certificates(page).getByRole('button', { name: 'Issue from CSR…' })).toBeDisabled();
    p256Csr = await csrThroughWizard(page, testInfo, 'p256.example.com', 'Example, Inc.', 'p256.example.com', true);
    const verified = opensslText(['req', '-verify', '-noout', '-in', p256Csr]);
    // OpenSSL 3.0 exits 0 even for a bad signature: the text is the verdict.
    expect(verified.text).toMatch(/verify OK/);
    expect(verified.text).not.toMatch(/verify failure/i);
    const text = opensslText(['req', '-in', p256Csr, '-noout', '-text']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('DNS:p256.example.com');
    expect(text.stdout).toContain('TLS Web Server Authentication');
    expect(text.stdout).toContain('Digital Signature');
    expect(text.stdout).toContain('CA:FALSE');
    expect(text.stdout).toContain('ecdsa-with-SHA256');
    expect(opensslText(['req', '-in', p256Csr, '-noout', '-subject', '-nameopt', 'RFC2253']).stdout.trim()).toBe('subject=CN=p256.example.com,O=Example\\, Inc.');
  });

  await test.step('SM2: SM2-with-SM3 request verified with the distinguishing ID', async () => {
    await createKeyInUi(page, { spec: 'EC_SM2', alias: 'alias/x509-sm2' });
    const csr = await csrThroughWizard(page, testInfo, 'sm2.example.cn', 'Example GM', 'sm2.example.cn', false);
    const verified = opensslText(['req', '-verify', '-noout', '-in', csr, '-vfyopt', SM2_ID]);
    expect(verified.text).toMatch(/verify OK/);
    expect(verified.text).not.toMatch(/verify failure/i);
    const text = opensslText(['req', '-in', csr, '-noout', '-text']).stdout;
    expect(text).toContain('DNS:sm2.example.cn');
    expect(text).toMatch(/SM2-with-SM3|sm2sign-with-sm3/i);
    // The verdict above can fail: one flipped byte at the end of the signature and OpenSSL says no.
    const pem = readFileSync(csr, 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 1]! ^= 0x01;
    const tampered = testInfo.outputPath('tampered.csr');
    writeFileSync(tampered, `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`);
    const refused = opensslText(['req', '-verify', '-noout', '-in', tampered, '-vfyopt', SM2_ID]).text;
    expect(refused).not.toMatch(/verify OK/);
    expect(refused).toMatch(/verify failure/);
  });

  let rootPem = '';
  await test.step('RSA root: self-signed in the vault, attached to its version and listed as CA', async () => {
    await createKeyInUi(page, { spec: 'RSA_2048', alias: 'alias/x509-root' });
    await certificates(page).getByRole('button', { name: 'Self-sign (root CA)…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Self-sign (root CA)' });
    await dialog.getByLabel('Common name (CN)').fill('DeskKMS Test Root');
    await dialog.getByLabel('Organization (O)').fill('Example');
    await dialog.getByLabel('Country (C, two letters)').fill('CN');
    await dialog.getByLabel('Validity (days)').fill('3650');
    await dialog.getByRole('button', { name: 'Create root certificate' }).click();
    rootPem = await download(page, dialog.getByRole('button', { name: /^Save .*-root\.pem$/ }), testInfo, 'root.pem');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dismissNotices(page);
    const listed = certificates(page).getByRole('listitem');
    await expect(listed).toHaveCount(1);
    await expect(listed.getByTestId('cert-subject')).toHaveText('CN=DeskKMS Test Root,O=Example,C=CN');
    await expect(listed.getByTestId('cert-issuer')).toHaveText('CN=DeskKMS Test Root,O=Example,C=CN');
    await expect(listed.getByTestId('cert-ca')).toHaveText('Yes');
    const root = opensslText(['x509', '-in', rootPem, '-noout', '-text']).stdout;
    expect(root).toContain('CA:TRUE');
    expect(root).toContain('sha256WithRSAEncryption');
  });

  let leafPem = '';
  let chainPem = '';
  await test.step('the root issues a certificate from the saved P-256 request; openssl verify accepts it', async () => {
    await certificates(page).getByRole('button', { name: 'Issue from CSR…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Issue certificate from CSR' });
    await dialog.getByLabel('Load CSR file').setInputFiles(p256Csr);
    await expect(dialog.getByLabel('Certificate signing request (PEM)')).toHaveValue(readFileSync(p256Csr, 'utf8'));
    await dialog.getByLabel('Validity (days)').fill('90');
    await dialog.getByRole('button', { name: 'Issue certificate' }).click();
    chainPem = await download(page, dialog.getByRole('button', { name: /^Save .*-chain\.pem$/ }), testInfo, 'leaf-chain.pem');
    leafPem = await download(page, dialog.getByRole('button', { name: /^Save issued-by-(?!.*-chain\.pem$).*\.pem$/ }), testInfo, 'leaf.pem');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dismissNotices(page);
    const verified = opensslText(['verify', '-CAfile', rootPem, leafPem]);
    expect(verified.text).toContain(`${leafPem}: OK`);
    expect(verified.status).toBe(0);
    const leaf = opensslText(['x509', '-in', leafPem, '-noout', '-text']).stdout;
    expect(leaf).toContain('DNS:p256.example.com');
    expect(leaf).toContain('TLS Web Server Authentication');
    expect(opensslText(['x509', '-in', leafPem, '-noout', '-issuer', '-nameopt', 'RFC2253']).stdout.trim()).toBe('issuer=CN=DeskKMS Test Root,O=Example,C=CN');
    // And a certificate the root did not sign is refused by the same check.
    expect(opensslText(['verify', '-CAfile', leafPem, rootPem]).status).not.toBe(0);
  });

  await test.step('the chain attaches to the P-256 version (not the root alone) and the list shows subject and issuer', async () => {
    await openKey(page, 'alias/x509-p256');
    await certificates(page).getByRole('button', { name: 'Attach certificate…' }).click();
    let dialog = page.getByRole('dialog', { name: 'Attach certificate' });
    await dialog.getByLabel('Load certificate file').setInputFiles(rootPem);
    await dialog.getByRole('button', { name: 'Attach', exact: true }).click();
    await expect(dialog.getByRole('alert')).toContainText('InvalidParameter');
    await expect(dialog.getByRole('alert')).toContainText("public key is not key version");
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await certificates(page).getByRole('button', { name: 'Attach certificate…' }).click();
    dialog = page.getByRole('dialog', { name: 'Attach certificate' });
    await dialog.getByLabel('Load certificate file').setInputFiles(chainPem);
    await dialog.getByRole('button', { name: 'Attach', exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole('status').filter({ hasText: 'Attached 2 certificates to the version' })).toBeVisible();
    const leaf = certificates(page).getByRole('listitem', { name: 'Certificate 1' });
    const root = certificates(page).getByRole('listitem', { name: 'Certificate 2' });
    await expect(certificates(page).getByRole('listitem')).toHaveCount(2);
    await expect(leaf.getByTestId('cert-subject')).toHaveText('CN=p256.example.com,O=Example\\, Inc.');
    await expect(leaf.getByTestId('cert-issuer')).toHaveText('CN=DeskKMS Test Root,O=Example,C=CN');
    await expect(leaf.getByTestId('cert-ca')).toHaveText('No');
    await expect(root.getByTestId('cert-subject')).toHaveText('CN=DeskKMS Test Root,O=Example,C=CN');
    await expect(root.getByTestId('cert-ca')).toHaveText('Yes');
    await dismissNotices(page);
    await certificates(page).scrollIntoViewIfNeeded();
    await screenshot(page, testInfo, 'certificate-list');
    const saved = await download(page, certificates(page).getByRole('button', { name: 'Save chain PEM' }), testInfo, 'attached-chain.pem');
    expect(readFileSync(saved, 'utf8')).toBe(readFileSync(chainPem, 'utf8'));
    expect(opensslText(['verify', '-CAfile', rootPem, saved]).text).toContain(': OK');
    await dismissNotices(page);
    await expect(detail(page)).toBeVisible();
  });
});

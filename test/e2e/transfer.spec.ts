// Private export and import end to end through the desktop renderer, with a real vault in the
// real Secret Service and OpenSSL as the peer: an Exportable P-256 version exported under a
// passphrase that `openssl pkey -passin` opens to the vault's public key; no export for a key
// not created Exportable; the file imported as a new version of another P-256 key (a wrong
// passphrase first: its Code shown, nothing added) whose signatures OpenSSL verifies with the
// original public key; bring your own key (an OpenSSL RSA_2048 key wrapped as Alibaba documents
// with the wrapping key saved from the panel); a public-key-only P-256 key that verifies an
// OpenSSL signature and refuses to sign with Rejected.PublicKeyOnly.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { openssl, pkeyutlVerifyArgs } from '../interop/openssl-peer.ts';
import { opensslKey, targetMaterial, wrapWithOpenssl } from '../support/byok-wrap.ts';
import { createVault, expect, screenshot, test } from './fixtures.ts';
import { createKeyInUi, detail, dismissNotices, download, kmsCall, kmsValue, openKey, opensslText, version } from './key-dialogs.ts';

const PASSPHRASE = 'correct transfer staple 42';

test('export an Exportable P-256 version for OpenSSL, none for other keys; import it as a new version (wrong passphrase refused first)', async ({ app: page, host }, testInfo) => {
  test.setTimeout(180_000);
  await createVault(page, 'keychain');
  let exported = '';
  let srcKeyId = '';
  let srcPublicPem = '';

  await test.step('export: passphrase twice, warning shown, encrypted PKCS#8 that OpenSSL opens to the same public key', async () => {
    srcKeyId = await createKeyInUi(page, { spec: 'EC_P256', alias: 'alias/xfer-src', exportable: true });
    await expect(detail(page).getByTestId('export-status')).toContainText('Exportable');
    await version(page, 1).getByRole('button', { name: 'Export private key…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export private key' });
    await expect(dialog.getByRole('note')).toContainText('can neither revoke nor track the copy');
    await dialog.getByLabel('Export passphrase', { exact: true }).fill(PASSPHRASE);
    await dialog.getByLabel('Repeat export passphrase').fill(`${PASSPHRASE}x`);
    await expect(dialog.getByRole('button', { name: 'Export encrypted' })).toBeDisabled();
    await dialog.getByLabel('Repeat export passphrase').fill(PASSPHRASE);
    await expect(dialog.getByRole('radio', { name: /^scrypt/ })).toBeChecked();
    await screenshot(page, testInfo, 'export-dialog');
    await dialog.getByRole('button', { name: 'Export encrypted' }).click();
    exported = await download(page, dialog.getByRole('button', { name: /^Save .*\.p8\.pem$/ }), testInfo);
    expect(exported.endsWith('.p8.pem')).toBe(true);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect(dialog).toBeHidden();
    await dismissNotices(page);

    const pem = readFileSync(exported, 'utf8');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    const versions = await kmsValue(page, host.origin, 'ListKeyVersions', { KeyId: srcKeyId });
    srcPublicPem = (await kmsValue(page, host.origin, 'GetPublicKey', { KeyId: srcKeyId, KeyVersionId: versions.KeyVersions.KeyVersion[0].KeyVersionId })).PublicKey;
    const opened = opensslText(['pkey', '-in', exported, '-passin', `pass:${PASSPHRASE}`, '-pubout']);
    expect(opened.status).toBe(0);
    expect(opened.stdout).toBe(srcPublicPem);
    // The check can fail: another passphrase does not open it.
    expect(opensslText(['pkey', '-in', exported, '-passin', 'pass:wrong', '-pubout']).status).not.toBe(0);
  });

  let dstKeyId = '';
  await test.step('a key not created Exportable has no export button, and says why', async () => {
    dstKeyId = await createKeyInUi(page, { spec: 'EC_P256', alias: 'alias/xfer-dst' });
    await expect(version(page, 1)).toBeVisible();
    await expect(detail(page).getByRole('button', { name: /Export private key/ })).toHaveCount(0);
    await expect(detail(page).getByTestId('export-status')).toHaveText(/^Not exportable: the key was created without Exportable/);
  });

  await test.step('import into the other key: a wrong passphrase shows its Code and adds nothing; the right one adds version 2', async () => {
    await detail(page).getByRole('button', { name: 'Import version from encrypted PKCS#8…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import version from encrypted PKCS#8' });
    await dialog.getByLabel('Encrypted key file').setInputFiles(exported);
    await dialog.getByLabel('File passphrase').fill('not the passphrase');
    await dialog.getByRole('button', { name: 'Import version' }).click();
    await expect(dialog.getByRole('alert')).toContainText('InvalidParameter');
    await expect(dialog.getByRole('alert')).toContainText('the passphrase does not decrypt this key or the file is damaged');
    // The passphrase left the form with the answer.
    await expect(dialog.getByLabel('File passphrase')).toHaveValue('');
    expect((await kmsValue(page, host.origin, 'ListKeyVersions', { KeyId: dstKeyId })).TotalCount).toBe(1);

    await dialog.getByLabel('File passphrase').fill(PASSPHRASE);
    await dialog.getByRole('button', { name: 'Import version' }).click();
    await expect(dialog).toBeHidden();
    await expect(version(page, 2)).toBeVisible();
    await dismissNotices(page);

    const versions = (await kmsValue(page, host.origin, 'ListKeyVersions', { KeyId: dstKeyId })).KeyVersions.KeyVersion as { KeyVersionId: string }[];
    expect(versions).toHaveLength(2);
    const imported = versions[1]!.KeyVersionId;
    expect((await kmsValue(page, host.origin, 'GetPublicKey', { KeyId: dstKeyId, KeyVersionId: imported })).PublicKey).toBe(srcPublicPem);
    // The imported version signs; OpenSSL verifies with the exported key's public key.
    const digest = randomBytes(32);
    const signed = await kmsValue(page, host.origin, 'AsymmetricSign', { KeyId: dstKeyId, KeyVersionId: imported, Algorithm: 'ECDSA_SHA_256', Digest: digest.toString('base64') });
    const pub = testInfo.outputPath('src-public.pem');
    const digestFile = testInfo.outputPath('digest.bin');
    const sigFile = testInfo.outputPath('sig.bin');
    writeFileSync(pub, srcPublicPem);
    writeFileSync(digestFile, digest);
    writeFileSync(sigFile, Buffer.from(signed.Value as string, 'base64'));
    expect(openssl(pkeyutlVerifyArgs('ECDSA_SHA_256', pub, digestFile, sigFile)).toString('utf8')).toContain('Signature Verified Successfully');
  });

  await test.step('the source key still has its one version', async () => {
    await openKey(page, 'alias/xfer-src');
    await expect(version(page, 1)).toBeVisible();
    await expect(version(page, 2)).toHaveCount(0);
  });
});

test('bring your own RSA_2048 key wrapped by OpenSSL; a public-key-only P-256 key verifies OpenSSL signatures and refuses to sign', async ({ app: page, host }, testInfo) => {
  test.setTimeout(180_000);
  await createVault(page, 'keychain');
  let n = 0;
  const file = (name: string): string => testInfo.outputPath('openssl', `${String(++n).padStart(3, '0')}-${name}`);
  mkdirSync(testInfo.outputPath('openssl'), { recursive: true });

  await test.step('EXTERNAL key: PendingImport, import parameters, wrapping key saved, material imported, one version with OpenSSL’s public key', async () => {
    const keyId = await createKeyInUi(page, { spec: 'RSA_2048', alias: 'alias/byok-rsa', origin: 'EXTERNAL' });
    await expect(detail(page).getByTestId('key-state')).toHaveText('PendingImport');
    await expect(detail(page).getByText('No versions yet')).toBeVisible();
    const panel = detail(page).getByRole('region', { name: 'Import key material' });
    await expect(panel.getByLabel('Wrapping algorithm')).toHaveValue('RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD');
    await panel.getByRole('button', { name: 'Get import parameters' }).click();
    await expect(panel.getByTestId('import-token')).not.toBeEmpty();
    // Valid 24 hours from now (the vault's clock is this machine's).
    const expiry = (await panel.getByTestId('token-expiry').textContent())!.replace(' UTC', 'Z').replace(' ', 'T');
    expect(Date.parse(expiry) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    await dismissNotices(page);
    // Tall enough for the whole panel in one picture.
    const size = page.viewportSize()!;
    await page.setViewportSize({ width: size.width, height: 1300 });
    await panel.scrollIntoViewIfNeeded();
    await screenshot(page, testInfo, 'byok-panel');
    await page.setViewportSize(size);
    const wrapPem = await download(page, panel.getByRole('button', { name: 'Save wrapping key PEM' }), testInfo, 'wrap.pem');
    expect(opensslText(['pkey', '-pubin', '-in', wrapPem, '-noout', '-text']).stdout).toContain('Public-Key: (2048 bit)');

    // Wrapped exactly as the integration test wraps, with the key from the saved PEM.
    const wrapB64 = readFileSync(wrapPem, 'utf8').replace(/-----[^-]+-----|\s/g, '');
    const key = opensslKey('RSA_2048', file);
    const material = wrapWithOpenssl(wrapB64, 'RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD', targetMaterial('RSA_2048', key), file);

    // Damaged material first: refused with its Code, the key still waiting.
    const damaged = Buffer.from(material);
    damaged[damaged.length - 1]! ^= 0x01;
    await panel.getByLabel('Encrypted key material (base64)').fill(damaged.toString('base64'));
    await panel.getByRole('button', { name: 'Import key material' }).click();
    await expect(panel.getByRole('alert')).toContainText(/IncorrectKeyMaterial|InvalidParameter/);
    await expect(detail(page).getByTestId('key-state')).toHaveText('PendingImport');

    // Then the real material, as a file of base64 text (what `base64 -w0` writes).
    const materialFile = testInfo.outputPath('material.b64');
    writeFileSync(materialFile, `${material.toString('base64')}\n`);
    await panel.getByLabel('Load key material file').setInputFiles(materialFile);
    await expect(panel.getByLabel('Encrypted key material (base64)')).toHaveValue(material.toString('base64'));
    await panel.getByRole('button', { name: 'Import key material' }).click();
    await expect(detail(page).getByTestId('key-state')).toHaveText('Enabled');
    await expect(version(page, 1)).toBeVisible();
    await expect(version(page, 2)).toHaveCount(0);
    await expect(detail(page).getByRole('region', { name: 'Import key material' })).toHaveCount(0);
    const versions = await kmsValue(page, host.origin, 'ListKeyVersions', { KeyId: keyId });
    expect(versions.TotalCount).toBe(1);
    expect((await kmsValue(page, host.origin, 'GetPublicKey', { KeyId: keyId, KeyVersionId: versions.KeyVersions.KeyVersion[0].KeyVersionId })).PublicKey).toBe(key.publicPem);
    await dismissNotices(page);
  });

  await test.step('EXTERNAL_PUBLIC_KEY: an OpenSSL P-256 public key imported from a file verifies OpenSSL’s signature; signing is refused', async () => {
    const keyId = await createKeyInUi(page, { spec: 'EC_P256', alias: 'alias/peer-p256', origin: 'EXTERNAL_PUBLIC_KEY' });
    await expect(detail(page).getByTestId('export-status')).toHaveText(/holds public keys only/);
    const peer = opensslKey('EC_P256', file);
    const pubFile = testInfo.outputPath('peer-public.pem');
    writeFileSync(pubFile, peer.publicPem);
    await detail(page).getByRole('button', { name: 'Import public key…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import public key' });
    await dialog.getByLabel('Load public key file').setInputFiles(pubFile);
    await expect(dialog.getByLabel('Public key (PEM)')).toHaveValue(peer.publicPem);
    await dialog.getByRole('button', { name: 'Import public key' }).click();
    await expect(dialog).toBeHidden();
    await expect(version(page, 1)).toBeVisible();
    // A public-key-only version offers no signing and no export.
    await expect(version(page, 1).getByRole('button', { name: 'Create CSR…' })).toHaveCount(0);
    await expect(detail(page).getByRole('button', { name: /Export private key/ })).toHaveCount(0);

    const keyVersionId = (await kmsValue(page, host.origin, 'ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion[0].KeyVersionId as string;
    const message = Buffer.from('signed by the peer with OpenSSL');
    const msgFile = testInfo.outputPath('message.txt');
    writeFileSync(msgFile, message);
    const sig = openssl(['dgst', '-sha256', '-sign', peer.pem, msgFile]);
    const digest = createHash('sha256').update(message).digest('base64');
    const verify = (value: Buffer) => kmsValue(page, host.origin, 'AsymmetricVerify', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest, Value: value.toString('base64') });
    expect((await verify(sig)).Value).toBe(true);
    const bad = Buffer.from(sig);
    bad[bad.length - 1]! ^= 0x01;
    expect((await verify(bad)).Value).toBe(false);
    const refused = await kmsCall(page, host.origin, 'AsymmetricSign', { KeyId: keyId, KeyVersionId: keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest });
    expect(refused.ok).toBe(false);
    expect(refused.error?.Code).toBe('Rejected.PublicKeyOnly');
  });
});

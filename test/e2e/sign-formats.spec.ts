// The Sign view's release formats (issue 13) through the real renderer, host, vault and Secret
// Service: a file of a few MiB signed with EC_P256 and RSA_2048 keys as a raw signature, an SSH
// signature, a JWS (attached and detached), a sigstore bundle and an OpenPGP signature; each file
// is saved through the Save button, its suggested name is the ecosystem's (release.tar.sig,
// .asc, .sigstore.json, .jws), and the saved file is checked here, in the test process, by the
// verifier its ecosystem uses: node:crypto (raw), ssh-keygen -Y check-novalidate and -Y verify
// with an allowed_signers file (ssh), jose (jws), @sigstore/verify (sigstore), gpg and sq
// (openpgp, with the certificate `deskkms pubkey --format openpgp` exports). A copy of the file
// with one byte changed is refused by the same verifier. EC_SM2 and EC_P256K keys show the formats
// they cannot carry disabled with the format's reason (secp256k1 signs a JWS with ES256K, which
// jose verifies); a refusal is shown with its Code.
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { compactVerify, flattenedVerify, importSPKI } from 'jose';
import type { Page } from '@playwright/test';
import { createKey, kmsAction, slowChunks, pick, publicKeyPem, type CreatedKey } from './crypto-helpers.ts';
import { createVault, expect, screenshot, test, type UiHost } from './fixtures.ts';

test.use({ viewport: { width: 1280, height: 1600 } });

const CLI = fileURLToPath(new URL('../../core/hosts/cli/deskkms.ts', import.meta.url));

let work: string;
test.beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'deskkms-e2e-formats-'));
});
test.afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function run(command: string, args: readonly string[], options: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, ...(options.input ? { input: options.input } : {}), env: { ...process.env, LC_ALL: 'C', ...options.env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Clicks Save NAME and keeps the download; returns its path and the name the page suggested. */
async function save(page: Page, button: string, as: string): Promise<{ path: string; suggested: string }> {
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: button, exact: true }).click();
  const saved = await download;
  const path = join(work, as);
  await saved.saveAs(path);
  return { path, suggested: saved.suggestedFilename() };
}

/** Signs the chosen file in the chosen format and saves the signature file: its path and suggested name. */
async function signAndSave(page: Page, expectedName: string, as: string): Promise<{ path: string; suggested: string; shown: string }> {
  await expect(page.getByTestId('signature-file')).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(page.getByTestId('signature-file-name')).toHaveText(expectedName);
  const shown = await page.getByTestId('signature-file').inputValue();
  return { ...(await save(page, `Save ${expectedName}`, as)), shown };
}

/** The OpenSSH form of a PEM public key, for an allowed_signers line. */
function opensshKey(pemPath: string): string {
  const r = run('ssh-keygen', ['-i', '-m', 'PKCS8', '-f', pemPath]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** ssh-keygen -Y check-novalidate (any key) or -Y verify (the allowed_signers' key for the principal), the message on stdin. */
function sshCheck(namespace: string, sig: string, message: Buffer, allowed?: { file: string; principal: string }) {
  const args = allowed ? ['-Y', 'verify', '-f', allowed.file, '-I', allowed.principal, '-n', namespace, '-s', sig] : ['-Y', 'check-novalidate', '-n', namespace, '-s', sig];
  return run('ssh-keygen', args, { input: message });
}

/** @sigstore/verify with only this public key and no transparency log, CT log or timestamp required. */
function sigstoreAccepts(bundle: Buffer, artifact: Buffer, pem: string): boolean {
  const hint = createHash('sha256').update(createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('base64');
  const parsed = bundleFromJSON(JSON.parse(bundle.toString('utf8')));
  const trust = toTrustMaterial({ mediaType: '', certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] }, (asked) => {
    if (asked !== hint) throw new Error(`unknown key hint ${asked}`);
    return { publicKey: createPublicKey(pem), validFor: () => true };
  });
  try {
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(parsed, artifact));
    return true;
  } catch {
    return false;
  }
}

async function jwsAccepts(token: string, pem: string, alg: string, detachedPayload?: Buffer): Promise<boolean> {
  const key = await importSPKI(pem, alg);
  try {
    if (detachedPayload === undefined) {
      await compactVerify(token, key, { algorithms: [alg] });
    } else {
      const [protectedHeader, empty, signature] = token.split('.');
      expect(empty).toBe('');
      await flattenedVerify({ protected: protectedHeader!, payload: detachedPayload.toString('base64url'), signature: signature! }, key, { algorithms: [alg] });
    }
    return true;
  } catch {
    return false;
  }
}

/** The key version's OpenPGP certificate, exported by the CLI from the vault the app holds. */
function openpgpCertificate(host: UiHost, key: CreatedKey, out: string): void {
  const r = run(process.execPath, [CLI, 'pubkey', key.KeyId, '--version', key.KeyVersionId, '--format', 'openpgp', '--user-id', 'Release Team <release@example.org>', '--vault', host.vaultDir, '--out', out]);
  expect(r.status, r.stderr).toBe(0);
}

test('signs a file in each release format, saves it under the ecosystem name, and the real verifier accepts it (not a changed byte)', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const p256 = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/e2e-release-p256');
  const rsa = await createKey(page, host, 'RSA_2048', 'SIGN/VERIFY', 'alias/e2e-release-rsa');
  const pems = new Map<CreatedKey, string>();
  for (const key of [p256, rsa]) {
    const path = join(work, `${key.alias.replace(/\W/g, '_')}.pem`);
    await writeFile(path, await publicKeyPem(page, host, key));
    pems.set(key, path);
  }
  const pemOf = async (key: CreatedKey) => readFile(pems.get(key)!, 'utf8');

  const message = join(work, 'release.tar');
  const bytes = randomBytes(3 * 1024 * 1024 + 4321);
  await writeFile(message, bytes);
  const changed = Buffer.from(bytes);
  changed[2_000_000]! ^= 0x01;
  const tampered = join(work, 'release-changed.tar');
  await writeFile(tampered, changed);

  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await expect(page.getByRole('heading', { name: 'Sign & verify' })).toBeVisible();
  await page.getByRole('radio', { name: 'File' }).check();
  await page.getByLabel('Message file').setInputFiles(message);
  await expect(page.getByTestId('chosen-file').filter({ hasText: 'release.tar (3.0 MiB)' })).toBeVisible();

  await test.step('raw (EC_P256): Save .sig → release.tar.sig, node:crypto verifies it', async () => {
    await pick(page, p256, 'ECDSA_SHA_256');
    await expect(page.getByRole('radio', { name: 'Raw signature' })).toBeChecked();
    await page.getByRole('button', { name: 'Sign', exact: true }).click();
    await expect(page.getByTestId('signature')).not.toHaveValue('');
    const saved = await save(page, 'Save .sig (binary)', 'raw.sig');
    expect(saved.suggested).toBe('release.tar.sig');
    const signature = await readFile(saved.path);
    const publicKey = createPublicKey(await pemOf(p256));
    expect(verify('sha256', bytes, publicKey, signature)).toBe(true);
    expect(verify('sha256', changed, publicKey, signature)).toBe(false);
  });

  for (const key of [p256, rsa]) {
    await test.step(`ssh (${key.alias}): release.tar.sig, ssh-keygen -Y check-novalidate and -Y verify accept it`, async () => {
      await pick(page, key, key === rsa ? 'RSA_PKCS1_SHA_256' : 'ECDSA_SHA_256');
      await page.getByRole('radio', { name: 'SSH signature (ssh-keygen, git)' }).check();
      await expect(page.getByLabel('SSH namespace')).toHaveValue('file');
      if (key === rsa) await expect(page.getByTestId('format-algorithm-note')).toContainText('RSA_PKCS1_SHA_256');
      if (key === p256) await slowChunks(page, 'Sign.Update', 300);
      const signing = signAndSave(page, 'release.tar.sig', `${key.alias.replace(/\W/g, '_')}.ssh.sig`);
      if (key === p256) {
        // Progress while the host hashes (the file's part, slowed), with Cancel offered.
        await expect(page.getByText(/^Hashing release\.tar — \d+%$/)).toBeVisible();
        await expect(page.getByRole('button', { name: 'Cancel' })).toBeVisible();
      }
      const saved = await signing;
      if (key === p256) {
        await page.unrouteAll({ behavior: 'wait' });
        await expect(page.getByText('Hashed release.tar — 100%')).toBeVisible();
        await screenshot(page, testInfo, 'sign-format-ssh');
      }
      expect(saved.suggested).toBe('release.tar.sig');
      expect(saved.shown).toMatch(/^-----BEGIN SSH SIGNATURE-----\n/);
      expect(await readFile(saved.path, 'utf8')).toBe(saved.shown);

      const good = sshCheck('file', saved.path, bytes);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout + good.stderr).toContain('Good "file" signature');
      expect(sshCheck('file', saved.path, changed).status).not.toBe(0);
      expect(sshCheck('git', saved.path, bytes).status).not.toBe(0);
      const allowed = { file: join(work, 'allowed_signers'), principal: 'release@example.org' };
      await writeFile(allowed.file, `${allowed.principal} ${opensshKey(pems.get(key)!)}\n`);
      const verified = sshCheck('file', saved.path, bytes, allowed);
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stdout + verified.stderr).toContain(`Good "file" signature for ${allowed.principal}`);
      expect(sshCheck('file', saved.path, changed, allowed).status).not.toBe(0);
    });
  }

  await test.step('jws (EC_P256, attached): release.tar.jws, jose verifies it with ES256', async () => {
    await pick(page, p256, 'ECDSA_SHA_256');
    await page.getByRole('radio', { name: 'JWS' }).check();
    await expect(page.getByRole('checkbox', { name: /Detached payload/ })).not.toBeChecked();
    const saved = await signAndSave(page, 'release.tar.jws', 'p256.jws');
    expect(saved.suggested).toBe('release.tar.jws');
    const token = await readFile(saved.path, 'utf8');
    expect(token.split('.')[1]).toBe(bytes.toString('base64url'));
    expect(await jwsAccepts(token, await pemOf(p256), 'ES256')).toBe(true);
    const [h, , s] = token.split('.');
    expect(await jwsAccepts(`${h}.${changed.toString('base64url')}.${s}`, await pemOf(p256), 'ES256')).toBe(false);
  });

  await test.step('jws (RSA_2048 PS256, detached): release.tar.jws, jose verifies it with the file', async () => {
    await pick(page, rsa, 'RSA_PSS_SHA_256');
    await page.getByRole('radio', { name: 'JWS' }).check();
    await expect(page.getByTestId('format-algorithm-note')).toContainText('PS256');
    await page.getByRole('checkbox', { name: /Detached payload/ }).check();
    const saved = await signAndSave(page, 'release.tar.jws', 'rsa.jws');
    expect(saved.suggested).toBe('release.tar.jws');
    const token = await readFile(saved.path, 'utf8');
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'PS256', kid: rsa.KeyVersionId });
    expect(await jwsAccepts(token, await pemOf(rsa), 'PS256', bytes)).toBe(true);
    expect(await jwsAccepts(token, await pemOf(rsa), 'PS256', changed)).toBe(false);
    await page.getByRole('checkbox', { name: /Detached payload/ }).uncheck();
  });

  for (const key of [p256, rsa]) {
    await test.step(`sigstore (${key.alias}): release.tar.sigstore.json, @sigstore/verify accepts it offline`, async () => {
      await pick(page, key, key === rsa ? 'RSA_PKCS1_SHA_256' : 'ECDSA_SHA_256');
      await page.getByRole('radio', { name: 'Sigstore bundle (cosign)' }).check();
      const saved = await signAndSave(page, 'release.tar.sigstore.json', `${key.alias.replace(/\W/g, '_')}.sigstore.json`);
      expect(saved.suggested).toBe('release.tar.sigstore.json');
      const bundle = await readFile(saved.path);
      expect(sigstoreAccepts(bundle, bytes, await pemOf(key))).toBe(true);
      expect(sigstoreAccepts(bundle, changed, await pemOf(key))).toBe(false);
    });
  }

  for (const key of [p256, rsa]) {
    await test.step(`openpgp (${key.alias}): release.tar.asc, gpg --verify and sq verify report a good signature`, async () => {
      await pick(page, key, key === rsa ? 'RSA_PKCS1_SHA_256' : 'ECDSA_SHA_256');
      await page.getByRole('radio', { name: 'OpenPGP (gpg, sq)' }).check();
      // The certificate first, as it is published before releases are signed: sq accepts a
      // signature only when the key's binding self-signature is older than it.
      const cert = join(work, `${key.alias.replace(/\W/g, '_')}.cert.asc`);
      openpgpCertificate(host, key, cert);
      const saved = await signAndSave(page, 'release.tar.asc', `${key.alias.replace(/\W/g, '_')}.asc`);
      expect(saved.suggested).toBe('release.tar.asc');
      expect(saved.shown).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
      const gnupgHome = join(work, `gnupg-${key.alias.replace(/\W/g, '_')}`);
      await mkdir(gnupgHome);
      await chmod(gnupgHome, 0o700);
      const env = { GNUPGHOME: gnupgHome };
      try {
        const imported = run('gpg', ['--batch', '--no-tty', '--import', cert], { env });
        expect(imported.status, imported.stderr).toBe(0);
        const good = run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--trust-model', 'always', '--verify', saved.path, message], { env });
        expect(good.status, good.stderr).toBe(0);
        expect(good.stdout).toContain('[GNUPG:] GOODSIG');
        const bad = run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--trust-model', 'always', '--verify', saved.path, tampered], { env });
        expect(bad.status).toBe(1);
        expect(bad.stdout).toContain('[GNUPG:] BADSIG');
      } finally {
        run('gpgconf', ['--kill', 'all'], { env });
      }
      const sqGood = run('sq', ['verify', '--signer-cert', cert, '--detached', saved.path, message]);
      expect(sqGood.status, sqGood.stderr).toBe(0);
      expect(sqGood.stderr).toMatch(/Good signature/i);
      expect(run('sq', ['verify', '--signer-cert', cert, '--detached', saved.path, tampered]).status).not.toBe(0);
    });
  }

  // Every format's one AsymmetricSign is audited with the browser host's caller and the format.
  const audit = (await kmsAction(page, host, 'ListAuditEntries', { Action: 'AsymmetricSign', Limit: 50 })).Entries as { caller: string; code: string }[];
  const callers = new Set(audit.filter((e) => e.code === 'OK').map((e) => e.caller));
  for (const format of ['ssh', 'jws', 'sigstore', 'openpgp']) expect(callers, format).toContain(`ui:${format}`);
});

test('SM2 and secp256k1 keys show the formats they cannot carry disabled with their reasons; refusals show their Code', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const sm2 = await createKey(page, host, 'EC_SM2', 'SIGN/VERIFY', 'alias/e2e-sm2');
  const p256 = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/e2e-p256');
  await page.getByRole('tab', { name: 'Sign & verify' }).click();

  // Chosen for P-256 first: SSH stays chosen until the SM2 key makes it impossible.
  await pick(page, p256, 'ECDSA_SHA_256');
  const ssh = page.getByRole('radio', { name: 'SSH signature (ssh-keygen, git)' });
  await ssh.check();
  await expect(page.getByTestId('format-hint-ssh')).toContainText('Saved as FILE.sig');

  await pick(page, sm2, 'SM2DSA');
  await expect(ssh).toBeDisabled();
  await expect(page.getByRole('radio', { name: 'Raw signature' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Raw signature' })).toBeEnabled();
  for (const [format, label] of [
    ['ssh', 'SSH signature (ssh-keygen, git)'],
    ['openpgp', 'OpenPGP (gpg, sq)'],
    ['sigstore', 'Sigstore bundle (cosign)'],
    ['jws', 'JWS'],
  ] as const) {
    await expect(page.getByRole('radio', { name: label })).toBeDisabled();
    const hint = page.getByTestId(`format-hint-${format}`);
    await expect(hint).toContainText('Not for EC_SM2 keys:');
    await expect(hint).toContainText(/SM2/);
    // The reason is the radio's description, read out with it.
    await expect(page.getByRole('radio', { name: label })).toHaveAccessibleDescription(/Not for EC_SM2 keys: .*SM2/);
  }
  await screenshot(page, testInfo, 'sign-format-sm2-disabled');

  // A raw SM2DSA signature still works, through the view as before.
  await page.getByLabel('Message text').fill('signed with SM2');
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(page.getByTestId('signature')).not.toHaveValue('');

  // The SSH namespace is checked before anything is sent; a Digest cannot be signed in a format.
  await pick(page, p256, 'ECDSA_SHA_256');
  await ssh.check();
  await page.getByLabel('SSH namespace').fill('has space');
  await expect(page.getByText('The namespace is printable ASCII without spaces')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign', exact: true })).toBeDisabled();
  await page.getByLabel('SSH namespace').fill('git');
  await expect(page.getByRole('button', { name: 'Sign', exact: true })).toBeEnabled();
  await page.getByRole('radio', { name: 'Digest (base64)' }).check();
  await page.getByLabel('Digest (base64, 32 bytes)').fill(Buffer.alloc(32, 1).toString('base64'));
  await expect(page.getByTestId('format-problem')).toContainText('signs the message itself');
  await expect(page.getByRole('button', { name: 'Sign', exact: true })).toBeDisabled();
  await page.getByRole('radio', { name: 'Text' }).check();

  // Signed text is named "message": message.sig, in namespace git, which ssh-keygen checks.
  const saved = await signAndSave(page, 'message.sig', 'message.sig');
  expect(saved.suggested).toBe('message.sig');
  const good = sshCheck('git', saved.path, Buffer.from('signed with SM2'));
  expect(good.status, good.stderr).toBe(0);
  expect(good.stdout + good.stderr).toContain('Good "git" signature');
  expect(sshCheck('file', saved.path, Buffer.from('signed with SM2')).status).not.toBe(0);
  expect(sshCheck('git', saved.path, Buffer.from('signed with SM3')).status).not.toBe(0);

  // secp256k1: no SSH key type and no sigstore key type; OpenPGP and JWS (ES256K) carry it.
  const k1 = await createKey(page, host, 'EC_P256K', 'SIGN/VERIFY', 'alias/e2e-k1');
  await pick(page, k1, 'ECDSA_SHA_256');
  await expect(page.getByRole('radio', { name: 'Raw signature' })).toBeChecked();
  for (const [format, label] of [
    ['ssh', 'SSH signature (ssh-keygen, git)'],
    ['sigstore', 'Sigstore bundle (cosign)'],
  ] as const) {
    await expect(page.getByRole('radio', { name: label })).toBeDisabled();
    await expect(page.getByTestId(`format-hint-${format}`)).toContainText(/Not for EC_P256K keys: .*secp256k1/);
  }
  await expect(page.getByRole('radio', { name: 'OpenPGP (gpg, sq)' })).toBeEnabled();
  await page.getByRole('radio', { name: 'JWS' }).check();
  await page.getByLabel('Message text').fill('signed with secp256k1');
  const token = await signAndSave(page, 'message.jws', 'k1.jws');
  expect(token.suggested).toBe('message.jws');
  const k1Pem = await publicKeyPem(page, host, k1);
  const jwsText = await readFile(token.path, 'utf8');
  expect(await jwsAccepts(jwsText, k1Pem, 'ES256K')).toBe(true);
  const [h, , s] = jwsText.split('.');
  expect(await jwsAccepts(`${h}.${Buffer.from('signed with secp256k2').toString('base64url')}.${s}`, k1Pem, 'ES256K')).toBe(false);

  // A refusal from the vault is shown with its Code: the key disabled after it was chosen.
  await pick(page, p256, 'ECDSA_SHA_256');
  await ssh.check();
  await kmsAction(page, host, 'DisableKey', { KeyId: p256.KeyId });
  await page.getByLabel('Message text').fill('signed again');
  await expect(page.getByTestId('picker-facts')).toContainText('Enabled');
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  const refusal = page.getByRole('alert').filter({ hasText: 'Rejected.Disabled' });
  await expect(refusal).toBeVisible();
  await expect(refusal.locator('.error-code')).toHaveText('Rejected.Disabled');
  await expect(page.getByTestId('signature-file')).toHaveCount(0);
});

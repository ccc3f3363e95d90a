// Sign & verify and Encrypt & decrypt through the real renderer, host, vault and Secret Service:
// a file of several MiB signed with EC_P256, RSA_2048 (PKCS#1 v1.5 and PSS) and EC_SM2 with the
// hashing progress shown, verified in the app (VALID, then INVALID once tampered) and by OpenSSL
// from the saved .sig; RSA-OAEP and SM2 round trips, OpenSSL's ciphertexts decrypted in the app,
// the plaintext limit shown and enforced; a disabled key's signing refused with its Code.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STREAM_PART_BYTES } from '../../core/contract/app-api.ts';
import { createKey, kmsAction, slowChunks, openssl, pick, publicKeyPem, type CreatedKey } from './crypto-helpers.ts';
import { createVault, expect, screenshot, test } from './fixtures.ts';

// Tall enough that a whole panel (picker, message, signature, verdict) fits in a screenshot.
test.use({ viewport: { width: 1280, height: 1500 } });

let work: string;
test.beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'deskkms-e2e-crypto-'));
});
test.afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

interface SignCase {
  readonly spec: string;
  readonly algorithm: string;
  readonly opensslArgs: (pub: string, sig: string, file: string) => string[];
}

const CASES: readonly SignCase[] = [
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256', opensslArgs: (pub, sig, file) => ['dgst', '-sha256', '-verify', pub, '-signature', sig, file] },
  { spec: 'RSA_2048', algorithm: 'RSA_PKCS1_SHA_256', opensslArgs: (pub, sig, file) => ['dgst', '-sha256', '-verify', pub, '-signature', sig, file] },
  {
    spec: 'RSA_2048',
    algorithm: 'RSA_PSS_SHA_256',
    // The engine's PSS salt is 32 bytes, the digest length (core/crypto/rsa.ts), MGF1-SHA-256.
    opensslArgs: (pub, sig, file) => ['dgst', '-sha256', '-verify', pub, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest', '-sigopt', 'rsa_mgf1_md:sha256', '-signature', sig, file],
  },
  {
    spec: 'EC_SM2',
    algorithm: 'SM2DSA',
    opensslArgs: (pub, sig, file) => ['dgst', '-sm3', '-verify', pub, '-sigopt', 'distid:1234567812345678', '-signature', sig, file],
  },
];

test('signs a file with every signing spec, verifies it in the app and with OpenSSL; a tampered signature is INVALID', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const keys = new Map<string, CreatedKey>();
  for (const spec of new Set(CASES.map((c) => c.spec))) keys.set(spec, await createKey(page, host, spec, 'SIGN/VERIFY', `alias/e2e-${spec.toLowerCase()}`));

  const message = join(work, 'release.tar');
  const bytes = randomBytes(5 * 1024 * 1024 + 4321);
  await writeFile(message, bytes);
  const tampered = join(work, 'release-tampered.tar');
  bytes[1000]! ^= 0x01;
  await writeFile(tampered, bytes);

  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await expect(page.getByRole('heading', { name: 'Sign & verify' })).toBeVisible();
  // The chunks go to the host as bytes (/api/chunk), not as base64 inside JSON.
  const chunks = await slowChunks(page, 'Digest.Update', 250);

  for (const c of CASES) {
    await test.step(`${c.spec} ${c.algorithm}`, async () => {
      const key = keys.get(c.spec)!;
      const partsBefore = chunks.count;
      await pick(page, key, c.algorithm);
      await page.getByRole('radio', { name: 'File' }).check();
      await page.getByLabel('Message file').setInputFiles(message);
      await expect(page.getByTestId('chosen-file').filter({ hasText: 'release.tar (5.0 MiB)' })).toBeVisible();
      await expect(page.getByTestId('signature')).toHaveCount(0);
      await page.getByRole('button', { name: 'Sign', exact: true }).click();

      // Progress while hashing (the file's part, slowed by the route), with Cancel offered.
      await expect(page.getByText(/^Hashing release\.tar — \d+%$/)).toBeVisible();
      await expect(page.getByRole('button', { name: 'Cancel' })).toBeVisible();
      await expect(page.getByText('Hashed release.tar — 100%')).toBeVisible();
      const bar = page.getByRole('progressbar', { name: /release\.tar/ });
      await expect(bar).toHaveAttribute('value', String(bytes.length));
      // 5 MiB: the browser uploaded it as bytes, in parts of STREAM_PART_BYTES.
      expect(chunks.count - partsBefore).toBe(Math.ceil(bytes.length / STREAM_PART_BYTES));

      const signatureBox = page.getByTestId('signature');
      await expect(signatureBox).not.toHaveValue('');
      const signature = await signatureBox.inputValue();
      await expect(page.getByTestId('signature-panel')).toContainText(key.KeyVersionId);

      // Save the raw signature as the user would, and verify exactly that file with OpenSSL.
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Save .sig (binary)' }).click();
      const saved = await download;
      expect(saved.suggestedFilename()).toBe('release.tar.sig');
      const sigPath = join(work, `${c.algorithm}.sig`);
      await saved.saveAs(sigPath);
      expect((await readFile(sigPath)).toString('base64')).toBe(signature);
      const pubPath = join(work, `${c.spec}.pem`);
      await writeFile(pubPath, await publicKeyPem(page, host, key));
      const good = openssl(c.opensslArgs(pubPath, sigPath, message));
      expect(good.stdout + good.stderr).toContain('Verified OK');
      const bad = openssl(c.opensslArgs(pubPath, sigPath, tampered));
      expect(bad.stdout).not.toContain('Verified OK');

      // Verify in the app: the signature just made (hash cached), then the binary .sig file.
      await page.getByRole('button', { name: 'Verify this signature' }).click();
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await expect(page.getByTestId('verdict')).toHaveText(/^VALID/);
      await expect(page.getByTestId('verdict')).toHaveClass(/verdict valid/);

      await page.getByLabel('Signature to verify (base64)').fill('');
      await page.getByLabel('Signature file').setInputFiles(sigPath);
      await expect(page.getByLabel('Signature to verify (base64)')).toHaveValue(signature);
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await expect(page.getByTestId('verdict')).toHaveText(/^VALID/);

      // One bit of the signature flipped (its last byte: DER stays well-formed) → INVALID.
      const flipped = Buffer.from(signature, 'base64');
      flipped[flipped.length - 1]! ^= 0x01;
      await page.getByLabel('Signature to verify (base64)').fill(flipped.toString('base64'));
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await expect(page.getByTestId('verdict')).toHaveText(/^INVALID/);
      await expect(page.getByTestId('verdict')).toHaveClass(/verdict invalid/);
      if (c.spec === 'EC_P256') await screenshot(page, testInfo, 'sign-verify-invalid');
      // Back to the good one for the screenshot of the last case.
      await page.getByRole('button', { name: 'Verify this signature' }).click();
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await expect(page.getByTestId('verdict')).toHaveText(/^VALID/);
    });
  }
  await screenshot(page, testInfo, 'sign-verify');

  // Cancel: a slower stream, stopped while its part uploads; nothing is signed.
  await page.unrouteAll({ behavior: 'wait' });
  await slowChunks(page, 'Digest.Update', 1500);
  await pick(page, keys.get('EC_P256')!, 'ECDSA_SHA_256');
  await page.getByLabel('Message file').setInputFiles(tampered);
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(page.getByText(/^Hashing release-tampered\.tar/)).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Cancelled' })).toContainText('nothing was signed');
});

test('signs a base64 Digest given directly, and checks its length', async ({ app: page, host }) => {
  await createVault(page);
  const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/e2e-digest');
  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await pick(page, key, 'ECDSA_SHA_256');
  await page.getByRole('radio', { name: 'Digest (base64)' }).check();
  const input = page.getByLabel('Digest (base64, 32 bytes)');
  await input.fill(Buffer.alloc(31, 7).toString('base64'));
  await expect(page.getByText('Digest must be 32 bytes (SHA-256 or SM3); this one is 31')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign', exact: true })).toBeDisabled();
  await input.fill('not base64 at all!');
  await expect(page.getByText(/not valid base64/)).toBeVisible();

  const message = Buffer.from('a message hashed elsewhere');
  const digest = createHash('sha256').update(message).digest();
  await input.fill(digest.toString('base64'));
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(page.getByTestId('signature')).not.toHaveValue('');
  const signature = await page.getByTestId('signature').inputValue();
  const pub = join(work, 'pub.pem');
  const sig = join(work, 'sig.der');
  const msg = join(work, 'msg.txt');
  await writeFile(pub, await publicKeyPem(page, host, key));
  await writeFile(sig, Buffer.from(signature, 'base64'));
  await writeFile(msg, message);
  expect(openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, msg]).stdout).toContain('Verified OK');
});

test('a file dropped on the drop zone is hashed and signed like a chosen one', async ({ app: page, host }) => {
  await createVault(page);
  const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/e2e-drop');
  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await pick(page, key, 'ECDSA_SHA_256');
  await page.getByRole('radio', { name: 'File' }).check();
  const content = 'dropped, not picked\n'.repeat(1000);
  const dataTransfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped.txt', { type: 'text/plain' }));
    return dt;
  }, content);
  const zone = page.getByTestId('dropzone').filter({ hasText: 'Message file' });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await expect(zone).toHaveClass(/over/);
  await zone.dispatchEvent('drop', { dataTransfer });
  await expect(zone.getByTestId('chosen-file')).toContainText('dropped.txt');
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(page.getByText('Hashed dropped.txt — 100%')).toBeVisible();
  await expect(page.getByTestId('signature')).not.toHaveValue('');
  const pub = join(work, 'pub.pem');
  const sig = join(work, 'dropped.sig');
  const msg = join(work, 'dropped.txt');
  await writeFile(pub, await publicKeyPem(page, host, key));
  await writeFile(sig, Buffer.from(await page.getByTestId('signature').inputValue(), 'base64'));
  await writeFile(msg, content);
  expect(openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, msg]).stdout).toContain('Verified OK');
});

test('encrypts and decrypts with RSA-OAEP-SHA-256 and SM2, decrypts OpenSSL ciphertexts, shows and enforces the limit', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const rsa = await createKey(page, host, 'RSA_2048', 'ENCRYPT/DECRYPT', 'alias/e2e-rsa-enc');
  const sm2 = await createKey(page, host, 'EC_SM2', 'ENCRYPT/DECRYPT', 'alias/e2e-sm2-enc');
  const text = 'Launch code: 0000 — ключ — 鍵 ✓';

  await page.getByRole('tab', { name: 'Encrypt & decrypt' }).click();
  await expect(page.getByRole('heading', { name: 'Encrypt & decrypt' })).toBeVisible();

  const cases = [
    {
      key: rsa,
      algorithm: 'RSAES_OAEP_SHA_256',
      limit: 190,
      opensslEncrypt: ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'],
    },
    { key: sm2, algorithm: 'SM2PKE', limit: 6047, opensslEncrypt: [] as string[] },
  ];
  for (const c of cases) {
    await test.step(c.algorithm, async () => {
      await pick(page, c.key, c.algorithm);
      const limit = page.getByTestId('plaintext-limit');
      await expect(limit).toContainText(`of at most ${c.limit} bytes`);
      await expect(limit).toContainText(c.algorithm);

      // One byte over the limit: refused here, before anything is sent.
      const plaintext = page.getByLabel('Plaintext (text, UTF-8)');
      await plaintext.fill('x'.repeat(c.limit + 1));
      await expect(limit).toContainText(`${c.limit + 1} of at most ${c.limit} bytes`);
      await expect(limit).toContainText('Too long');
      await expect(page.getByRole('button', { name: 'Encrypt', exact: true })).toBeDisabled();
      await plaintext.fill('x'.repeat(c.limit));
      await expect(page.getByRole('button', { name: 'Encrypt', exact: true })).toBeEnabled();

      await plaintext.fill(text);
      await expect(page.getByTestId('ciphertext')).toHaveCount(0);
      await expect(limit).toContainText(`${Buffer.byteLength(text)} of at most ${c.limit} bytes`);
      await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
      await expect(page.getByTestId('ciphertext')).not.toHaveValue('');
      const ciphertext = await page.getByTestId('ciphertext').inputValue();
      await page.getByRole('button', { name: 'Decrypt this ciphertext' }).click();
      await expect(page.getByLabel('Ciphertext to decrypt (base64)')).toHaveValue(ciphertext);
      await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
      await expect(page.getByLabel('Decrypted text')).toHaveValue(text);
      await expect(page.getByTestId('plaintext-base64')).toHaveValue(Buffer.from(text).toString('base64'));
      if (c.algorithm === 'RSAES_OAEP_SHA_256') await screenshot(page, testInfo, 'encrypt-decrypt');

      // OpenSSL encrypts with the public key from GetPublicKey; the app decrypts the raw file.
      const pub = join(work, `${c.algorithm}.pem`);
      const plain = join(work, `${c.algorithm}.txt`);
      const ct = join(work, `${c.algorithm}.bin`);
      const fromOpenssl = `from OpenSSL, for ${c.algorithm}`;
      await writeFile(pub, await publicKeyPem(page, host, c.key));
      await writeFile(plain, fromOpenssl);
      const enc = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pub, ...c.opensslEncrypt, '-in', plain, '-out', ct]);
      expect(enc.status, enc.stderr).toBe(0);
      await page.getByLabel('Ciphertext file').setInputFiles(ct);
      await expect(page.getByLabel('Ciphertext to decrypt (base64)')).toHaveValue((await readFile(ct)).toString('base64'));
      await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
      await expect(page.getByLabel('Decrypted text')).toHaveValue(fromOpenssl);

      // A corrupted ciphertext is refused with a Code, not shown as plaintext.
      const broken = await readFile(ct);
      broken[broken.length - 1]! ^= 0xff;
      await page.getByLabel('Ciphertext to decrypt (base64)').fill(broken.toString('base64'));
      await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
      await expect(page.getByRole('alert').filter({ hasText: /InvalidParameter|InvalidCiphertext|Decrypt/ })).toBeVisible();
      await expect(page.getByTestId('decrypted')).toHaveCount(0);
    });
  }
});

test('signing with a disabled key is refused with Rejected.Disabled and its message; once the picker knows, Sign is disabled with the reason', async ({ app: page, host }, testInfo) => {
  await createVault(page);
  const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', 'alias/e2e-disabled');
  await page.getByRole('tab', { name: 'Sign & verify' }).click();
  await pick(page, key, 'ECDSA_SHA_256');
  await page.getByLabel('Message text').fill('sign me');
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  await expect(page.getByTestId('signature')).not.toHaveValue('');

  // Disabled elsewhere (here through the API, as the CLI would) while the picker still shows it Enabled: the vault refuses.
  await kmsAction(page, host, 'DisableKey', { KeyId: key.KeyId });
  await page.getByLabel('Message text').fill('sign me again');
  await page.getByRole('button', { name: 'Sign', exact: true }).click();
  const refusal = page.getByRole('alert').filter({ hasText: 'Rejected.Disabled' });
  await expect(refusal).toBeVisible();
  await expect(refusal).toContainText(/disabled/i);
  await expect(refusal.locator('.error-code')).toHaveText('Rejected.Disabled');
  await screenshot(page, testInfo, 'sign-refused');

  // Once the picker reads the key's state, Sign is disabled before it is pressed, with the reason.
  await page.getByRole('button', { name: 'Reload keys' }).click();
  await expect(page.getByTestId('picker-facts')).toContainText('Disabled');
  await expect(page.getByRole('button', { name: 'Sign', exact: true })).toBeDisabled();
  await expect(page.getByTestId('key-state-problem')).toHaveText('This key is disabled: enable it on the Keys tab (Enable key)');
});

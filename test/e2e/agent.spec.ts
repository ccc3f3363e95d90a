// Confirm on use through the app (issue 14), with the agent as the signer: the real renderer, the
// browser host (`deskkms ui`) running the agent, and the stock OpenSSH `ssh-keygen -Y sign -f
// key.pub -n git` as the requester (a child process of this test with SSH_AUTH_SOCK set). An
// EC_P256 key is added to the agent with Confirm on from the SSH agent view, the agent is turned
// on with its socket in this test's temp dir, and the confirm dialog (over whatever view is open,
// focus on Deny) names the key, the program and "namespace git":
//   approve -> ssh-keygen writes the signature and `ssh-keygen -Y check-novalidate` accepts it;
//   deny    -> ssh-keygen fails and writes nothing;
//   timeout -> with the agent restarted at a 5 s confirmation timeout, nobody answers: refused.
// With Confirm turned off in the view the key signs unasked; while the vault is locked the agent
// lists nothing, and after the unlock it runs and serves again. The audit log shows the two
// signatures, made for ssh-keygen through the agent.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { createKey, kmsAction } from './crypto-helpers.ts';
import { createVault, expect, screenshot, test } from './fixtures.ts';

const ALIAS = 'alias/e2e-agent-git';

// Tall enough that the notices (bottom right) never cover the keys table.
test.use({ viewport: { width: 1280, height: 1100 } });

let work: string;
test.beforeEach(async () => {
  // mkdtemp makes the folder 0700: the agent's socket may live in it.
  work = await mkdtemp(join(tmpdir(), 'deskkms-e2e-agent-'));
});
test.afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Finished {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A child process with the agent's socket (never spawnSync: the test keeps driving the page meanwhile). */
function run(command: string, args: readonly string[], socket: string, input?: string): Promise<Finished> {
  const child = spawn(command, args, { env: { PATH: process.env.PATH, HOME: work, LC_ALL: 'C', SSH_AUTH_SOCK: socket }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** `ssh-keygen -Y sign -f key.pub -n git FILE` through the agent: FILE.sig when it is allowed. */
async function gitSign(pub: string, socket: string, name: string): Promise<{ file: string; text: string; done: Promise<Finished> }> {
  const file = join(work, name);
  const text = `tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor e2e ${name}\n`;
  await writeFile(file, text);
  return { file, text, done: run('ssh-keygen', ['-Y', 'sign', '-f', pub, '-n', 'git', file], socket) };
}

function confirmDialog(page: Page) {
  return page.getByRole('alertdialog', { name: `Allow a signature with ${ALIAS}?` });
}

async function setAgent(page: Page, on: boolean): Promise<void> {
  const toggle = page.getByRole('switch', { name: 'SSH agent' });
  await expect(toggle).toBeEnabled();
  if ((await toggle.getAttribute('aria-checked')) !== String(on)) await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', String(on));
}

test('confirm on use in the app: approve signs for ssh-keygen, deny and timeout refuse', async ({ app: page, host }, testInfo) => {
  const socket = join(work, 'agent.sock');
  await createVault(page);
  const key = await createKey(page, host, 'EC_P256', 'SIGN/VERIFY', ALIAS);

  await test.step('add the key to the agent with Confirm on, from the SSH agent view', async () => {
    await page.getByRole('tab', { name: 'SSH agent' }).click();
    await expect(page.getByRole('heading', { name: 'SSH agent', level: 1 })).toBeVisible();
    await expect(page.getByTestId('agent-no-keys')).toBeVisible();
    await page.getByLabel('Key to add').selectOption(key.KeyId);
    await expect(page.getByLabel('Key version to add')).toHaveValue(key.KeyVersionId);
    await expect(page.getByRole('checkbox', { name: 'Confirm each use in this window' })).toBeChecked();
    await page.getByRole('button', { name: 'Add to agent' }).click();
    const row = page.getByTestId('agent-key');
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(ALIAS);
    await expect(row).toContainText('EC_P256');
    await expect(row).toContainText(key.KeyVersionId);
    await expect(row).toContainText(/SHA256:[A-Za-z0-9+/]{43}/);
    await expect(page.getByRole('checkbox', { name: `Confirm each use of ${ALIAS}` })).toBeChecked();
  });

  await test.step('turn the agent on with its socket in the test dir', async () => {
    await page.getByLabel('Socket path').fill(socket);
    await expect(page.getByLabel('Confirmation timeout (seconds)')).toHaveValue('30');
    await setAgent(page, true);
    await expect(page.getByTestId('agent-export')).toHaveText(`export SSH_AUTH_SOCK=${socket}`);
    await screenshot(page, testInfo, 'agent-view');
    const listed = await run('ssh-add', ['-L'], socket);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`deskkms:${key.KeyId}:${key.KeyVersionId}`);
  });

  const { Identities } = await kmsAction(page, host, 'ListAgentIdentities');
  const pub = join(work, 'key.pub');
  await writeFile(pub, `${Identities[0].SshPublicKey as string}\n`);

  await test.step('approve: the dialog names key, program and namespace; the signature verifies', async () => {
    // Over another view than the agent's own.
    await page.getByRole('tab', { name: 'Keys' }).click();
    const signing = await gitSign(pub, socket, 'approved.txt');
    const dialog = confirmDialog(page);
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText(ALIAS);
    await expect(dialog).toContainText('ssh-keygen');
    await expect(dialog).toContainText('a git signature (namespace git)');
    await expect(dialog).toContainText(key.KeyVersionId);
    await expect(dialog.getByTestId('agent-countdown')).toContainText(/Refused in \d+ s/);
    await expect(dialog.getByRole('button', { name: 'Deny' })).toBeFocused();
    await screenshot(page, testInfo, 'agent-confirm-dialog');
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await expect(dialog).toBeHidden();
    const signed = await signing.done;
    expect(signed.status, signed.stderr).toBe(0);
    expect(existsSync(`${signing.file}.sig`)).toBe(true);
    const checked = await run('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'git', '-s', `${signing.file}.sig`], socket, signing.text);
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.stdout + checked.stderr).toContain('Good "git" signature');
  });

  await test.step('deny: ssh-keygen is refused and writes no signature', async () => {
    const signing = await gitSign(pub, socket, 'denied.txt');
    const dialog = confirmDialog(page);
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Deny' }).click();
    await expect(dialog).toBeHidden();
    const refused = await signing.done;
    expect(refused.status).not.toBe(0);
    expect(existsSync(`${signing.file}.sig`)).toBe(false);
  });

  await test.step('timeout: restarted at 5 s, an unanswered confirmation is refused', async () => {
    await page.getByRole('tab', { name: 'SSH agent' }).click();
    await setAgent(page, false);
    await expect(page.getByTestId('agent-export')).toHaveCount(0);
    await page.getByLabel('Confirmation timeout (seconds)').fill('5');
    await setAgent(page, true);
    await expect(page.getByText('refused after 5 s unanswered')).toBeVisible();
    const signing = await gitSign(pub, socket, 'unanswered.txt');
    const dialog = confirmDialog(page);
    await expect(dialog).toBeVisible();
    const refused = await signing.done;
    expect(refused.status).not.toBe(0);
    expect(existsSync(`${signing.file}.sig`)).toBe(false);
    await expect(dialog).toBeHidden();
  });

  await test.step('Confirm off: signs without asking; locked, the agent lists nothing; unlocked, it serves again', async () => {
    const confirm = page.getByRole('checkbox', { name: `Confirm each use of ${ALIAS}` });
    await confirm.uncheck();
    await expect(confirm).not.toBeChecked();
    // Nobody answers here: with Confirm still on, the 5 s timeout would refuse it.
    const signing = await gitSign(pub, socket, 'unconfirmed.txt');
    const signed = await signing.done;
    expect(signed.status, signed.stderr).toBe(0);
    expect(existsSync(`${signing.file}.sig`)).toBe(true);

    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Vault locked' })).toBeVisible();
    const locked = await run('ssh-add', ['-L'], socket);
    expect(locked.stdout).not.toContain(key.KeyId);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('tab', { name: 'SSH agent' }).click();
    await expect(page.getByRole('switch', { name: 'SSH agent' })).toHaveAttribute('aria-checked', 'true');
    const unlocked = await run('ssh-add', ['-L'], socket);
    expect(unlocked.stdout).toContain(`deskkms:${key.KeyId}:${key.KeyVersionId}`);
  });

  await test.step('the audit log holds the two signatures made, for ssh-keygen through the agent', async () => {
    const { Entries } = await kmsAction(page, host, 'ListAuditEntries', { KeyId: key.KeyId, Action: 'AsymmetricSign' });
    const signed = (Entries as { code: string; caller: string }[]).filter((e) => e.code === 'OK');
    expect(signed).toHaveLength(2);
    for (const entry of signed) expect(entry.caller).toMatch(/^ssh-agent\[ssh-keygen \d+\]$/);
  });
});

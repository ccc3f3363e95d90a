// 10,000 keys in the list: seeded through the host's own API (the page's cookie and Origin, 64
// requests in flight), then loaded by the UI, which must keep only the visible rows in the DOM,
// reach the last key from the keyboard and by scrolling, and filter the whole inventory.
import { expect, screenshot, test, createVault } from './fixtures.ts';
import { seedKeys } from './seed.ts';

const TOTAL = 10_000;
/** Every TAG_EVERY-th seeded key carries the tag batch=hundreds. */
const TAG_EVERY = 100;
const LAST_ALIAS = 'alias/zz-last-key';

test('10,000 keys: count, only visible rows in the DOM, End and scrolling reach the last key, filters narrow', async ({ app: page, host }, testInfo) => {
  test.setTimeout(300_000);
  await createVault(page, 'keychain');

  const seeded = await test.step(`seed ${TOTAL} EC_P256 keys through /api/call`, async () => {
    const started = performance.now();
    // All but one in parallel; the last one alone, so it is last in creation order, with an alias.
    const bulk = await seedKeys(page, host.origin, TOTAL - 1, (i) => ({
      KeySpec: 'EC_P256',
      Description: `seed ${String(i).padStart(5, '0')}`,
      ...(i % TAG_EVERY === 0 ? { Tags: [{ TagKey: 'batch', TagValue: 'hundreds' }] } : {}),
    }));
    const [last] = await seedKeys(page, host.origin, 1, () => ({ KeySpec: 'EC_P256', Description: 'the last one' }));
    await seedKeys(page, host.origin, 1, () => ({ KeyId: last!, AliasName: LAST_ALIAS }), 'CreateAlias');
    const seconds = (performance.now() - started) / 1000;
    testInfo.annotations.push({ type: 'seed', description: `${TOTAL} keys in ${seconds.toFixed(1)} s` });
    return [...bulk, last!];
  });
  expect(new Set(seeded).size).toBe(TOTAL);

  const list = page.getByRole('grid', { name: 'Keys' });
  // The key rows, not the header row.
  const rows = list.getByRole('row').filter({ has: page.getByRole('gridcell') });
  const count = page.getByTestId('key-count');

  await test.step('the list loads them all and renders only what is in view', async () => {
    await page.getByRole('button', { name: 'Reload' }).click();
    await expect(count).toHaveText('10,000 of 10,000 keys', { timeout: 60_000 });
    await expect(rows.first()).toBeVisible();
    const inDom = await rows.count();
    expect(inDom).toBeGreaterThan(5);
    expect(inDom).toBeLessThan(100);
    await expect(list).toHaveAttribute('aria-rowcount', String(TOTAL + 1));
    await screenshot(page, testInfo, 'key-list-10000');
  });

  await test.step('End reaches the last key; Enter opens it', async () => {
    await list.focus();
    await page.keyboard.press('End');
    const last = list.getByRole('row', { name: new RegExp(`^${LAST_ALIAS.replace('/', '\\/')} `) });
    await expect(last).toBeVisible();
    await expect(last).toHaveAttribute('aria-rowindex', String(TOTAL + 1));
    expect(await rows.count()).toBeLessThan(100);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('region', { name: 'Key detail' }).getByRole('heading', { level: 2 })).toHaveText(LAST_ALIAS);
    await page.keyboard.press('Home');
    await expect(list.locator('[aria-rowindex="2"]')).toBeVisible();
    await expect(last).toHaveCount(0);
  });

  await test.step('scrolling the container to the bottom shows the last key too', async () => {
    await list.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect(list.getByRole('row', { name: new RegExp(`^${LAST_ALIAS.replace('/', '\\/')} `) })).toBeVisible();
    await expect(list.locator('[aria-rowindex="2"]')).toHaveCount(0);
    expect(await rows.count()).toBeLessThan(100);
  });

  await test.step('filters narrow the 10,000', async () => {
    const filters = page.getByRole('search', { name: 'Filter keys' });
    await filters.getByLabel('Tag', { exact: true }).fill('batch=hundreds');
    await expect(count).toHaveText(`${TOTAL / TAG_EVERY} of 10,000 keys`);
    await filters.getByLabel('Tag', { exact: true }).fill('');
    await filters.getByLabel('Search', { exact: true }).fill('seed 09998');
    await expect(count).toHaveText('1 of 10,000 keys');
    await expect(rows).toHaveCount(1);
    await filters.getByLabel('Search', { exact: true }).fill('');
    await filters.getByLabel('Alias', { exact: true }).fill('zz-last');
    await expect(count).toHaveText('1 of 10,000 keys');
    await expect(rows).toHaveText([new RegExp(`^${LAST_ALIAS}`)]);
    await filters.getByLabel('State', { exact: true }).selectOption('Disabled');
    await expect(count).toHaveText('0 of 10,000 keys');
    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await expect(count).toHaveText('10,000 of 10,000 keys');
  });
});

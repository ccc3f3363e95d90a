// Builds the renderer once, fresh, so the tests drive the code of this checkout.
import { existsSync } from 'node:fs';
import { buildRenderer } from '../../core/app/renderer-build.ts';
import { CHROMIUM } from '../../playwright.config.ts';

export default async function globalSetup(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: test/setup/system-deps.sh installs Debian's chromium package`);
  }
  await buildRenderer({ quiet: true });
}

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Headless Chromium for the browser tests: Debian's package, installed on first use by
 * scripts/chromium.sh (which prints its path), driven by playwright-core, which downloads none.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = execFileSync('bash', ['scripts/chromium.sh'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  // No sandbox: test machines and CI containers run as root, where Chromium's sandbox refuses.
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}

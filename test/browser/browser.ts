import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The name homelabs reach Proximity by; Chromium maps it to this machine. */
export const HOST_NAME = 'proximity.home.arpa';
export const SCREENSHOTS = join(__dirname, 'screenshots');
export const WIDTHS = { desktop: 1280, phone: 390 } as const;

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [`--host-resolver-rules=MAP ${HOST_NAME} 127.0.0.1`],
  });
}

/**
 * Chromium's notices that are no fault of the page: a 400/401/404/409/429 the screen handles is logged
 * as a failed resource, and helmet's Cross-Origin-Opener-Policy is ignored over plain HTTP.
 */
const NOT_FAULTS = /status of 4(00|01|04|09|29)|Cross-Origin-Opener-Policy header has been ignored/;

/**
 * A page that records what the console reports: a CSP violation or an uncaught error would leave
 * a blank or broken screen while every selector-based assertion merely times out.
 */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: WIDTHS.desktop, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !NOT_FAULTS.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core runs in the page through the DevTools protocol (not a <script>, which the CSP
 * forbids); the serious and critical violations it finds, in a readable form.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(`${AXE_SOURCE};0`);
  const violations = await page.evaluate<AxeViolation[]>(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
}

/** A screenshot of the current screen at both widths, for a reviewer who does not run the tests. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [label, width] of Object.entries(WIDTHS)) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: WIDTHS.desktop, height: 900 });
}

/** Fills in and submits the login form; the caller checks where it lands. */
export async function submitLogin(
  page: Page,
  base: string,
  username: string,
  password: string,
): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Logs in and waits for the catalog, where a login lands. */
export async function logIn(
  page: Page,
  base: string,
  username: string,
  password: string,
): Promise<void> {
  await submitLogin(page, base, username, password);
  await page.waitForURL(`${base}/catalog`);
}

/** The screen is accessible in both themes, and a reviewer gets its picture at both widths. */
export async function review(page: Page, name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    expect({ colorScheme, violations: await seriousViolations(page) }).toEqual({
      colorScheme,
      violations: [],
    });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await screenshots(page, name);
}

/**
 * Headless Chromium for the viewer's browser tests: Debian's package (`.ci/run` installs it;
 * playwright-core downloads no browser), a fresh profile per test, closed with the test.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const MISSING_CHROMIUM = `Chromium is missing at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does this).`;

/**
 * A page at `url`, with the page's errors and console errors collected in `problems`; `undefined`
 * (the test skipped) where Chromium is missing, and a failure under CI, which installs it.
 */
export async function openPage(
  t: TestContext,
  url: string,
): Promise<{ page: Page; problems: string[] } | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) assert.fail(MISSING_CHROMIUM);
    t.skip(MISSING_CHROMIUM);
    return undefined;
  }
  const profile = await mkdtemp(join(tmpdir(), "rlm-view-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      // Without the background-networking flags Chromium keeps dialling out, refused by a closed network.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  await page.goto(url);
  return { page, problems };
}

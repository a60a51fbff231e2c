import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { repoRoot } from "../../support/example-project.js";

// A real Chromium for the dashboard's browser tests: Debian's package (apt-get install
// chromium; .ci/run installs it), driven by playwright-core, never a downloaded browser.
// A fresh profile each time, nothing reaching out to the network on its own.

export const CHROMIUM = process.env.PRODLIKE_CHROMIUM ?? "/usr/bin/chromium";

/** Where the browser tests leave their screenshots and timings (CI keeps this folder). */
export const ARTIFACTS = path.join(repoRoot, "artifacts", "dashboard");

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), "prodlike-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function artifactPath(name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Chromium, launched by the tests themselves, so that a missing Chromium fails each of them with
 * this message instead of leaving them skipped: CI installs it (scripts/ensure-chromium.sh).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}: install it (Debian: apt-get install chromium, or bash scripts/ensure-chromium.sh) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
}

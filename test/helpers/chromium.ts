/**
 * The Chromium the browser tests drive with playwright-core (which downloads no browser): the one
 * CHROMIUM_PATH names, else Debian's `chromium` package. Undefined when there is none: the tests
 * that need it are then skipped and counted as skipped.
 */
import { accessSync, constants } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

export function findChromium(): string | undefined {
  for (const path of [process.env.CHROMIUM_PATH, ...CANDIDATES]) {
    if (path === undefined || path === '') continue
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // Not there, or not executable: the next candidate.
    }
  }
  return undefined
}

export function launchChromium(executablePath: string): Promise<Browser> {
  // Chromium's sandbox refuses to run as root, which CI is.
  return chromium.launch({ executablePath, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] })
}

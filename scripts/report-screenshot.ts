/**
 * Makes docs/report-screenshot.png: runs the `npm start` demo in a temporary folder, reports its log
 * with `changesources report`, and photographs the page in headless Chromium (CHROMIUM_PATH, else
 * Debian's chromium). Run it again when the demo or the page changes:
 *   node --import tsx scripts/report-screenshot.ts
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { findChromium, launchChromium } from '../test/helpers/chromium.js'

const root = join(import.meta.dirname, '..')
const tsx = import.meta.resolve('tsx')
const screenshot = join(root, 'docs', 'report-screenshot.png')

function run(args: string[], cwd: string): void {
  const result = spawnSync(process.execPath, ['--import', tsx, ...args], { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status ?? result.signal}`)
}

const chromium = findChromium()
if (chromium === undefined) throw new Error('no Chromium: install it (apt-get install -y chromium) or set CHROMIUM_PATH')
const folder = await mkdtemp(join(tmpdir(), 'changesources-report-screenshot-'))
try {
  // The demo writes ./data/changesources under its working folder.
  run([join(root, 'examples', 'two-masters.ts')], folder)
  const page = join(folder, 'report.html')
  run([join(root, 'src', 'cli', 'cli.ts'), 'report', './data/changesources', '-o', page], folder)
  const browser = await launchChromium(chromium)
  try {
    const tab = await browser.newPage({ viewport: { width: 1100, height: 560 } })
    await tab.goto(pathToFileURL(page).href)
    await tab.waitForFunction(() => 'claimsTimeline' in globalThis)
    // Hover the first bar, so that the picture shows what hovering tells.
    const first = await tab.evaluate(() => (globalThis as unknown as { claimsTimeline: { shapes(): Array<{ x: number; y: number; width: number; height: number }> } }).claimsTimeline.shapes()[0])
    const box = await tab.locator('#timeline').boundingBox()
    if (first !== undefined && box !== null) await tab.mouse.move(box.x + first.x + first.width / 2, box.y + first.y + first.height / 2)
    await tab.screenshot({ path: screenshot, fullPage: true })
  } finally {
    await browser.close()
  }
  console.log(`wrote ${screenshot}`)
} finally {
  await rm(folder, { recursive: true, force: true })
}

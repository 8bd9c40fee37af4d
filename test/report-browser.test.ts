// The claims report in a real browser (issue 15): headless Chromium opens the page with the network
// cut off, finds one bar per claim with its lane, master colour and end mark, shows a claim on
// hover, draws only the lanes in view of a range of tens of thousands of claims, and keeps a
// screenshot under test-output/. Skipped, and counted as skipped, where no Chromium is installed.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { buildClaimsReport, type ClaimsReport, type ReportClaim } from '../src/report/claims-report.js'
import { collectClaimsReport } from '../src/report/collect-claims-report.js'
import { renderReportHtml } from '../src/report/report-html.js'
import { findChromium, launchChromium } from './helpers/chromium.js'

const OUTPUT = join(import.meta.dirname, '..', 'test-output')
const T0 = Date.parse('2026-11-24T13:00:00Z')
const MINUTE = 60_000

interface Shape {
  token: number
  lane: number
  changesourceid: number
  masterid: number
  ending: string
  mark: string
  color: string
  x: number
  y: number
  width: number
  height: number
}

const chromiumPath = findChromium()
const test = suite<{ browser: Browser | undefined; folder: string }>('claims report in Chromium', { browser: undefined, folder: '' })

test.before(async (context) => {
  context.browser = await launchChromium(chromiumPath!)
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-report-'))
  await mkdir(OUTPUT, { recursive: true })
})

test.after(async ({ browser, folder }) => {
  await browser?.close()
  await rm(folder, { recursive: true, force: true })
})

/** Opens the report's page; every request other than the page's own file is recorded (and blocked). */
async function open(browser: Browser, folder: string, report: ClaimsReport, name: string): Promise<{ page: Page; requests: string[]; problems: string[] }> {
  const file = join(folder, `${name}.html`)
  await writeFile(file, renderReportHtml(report))
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  const requests: string[] = []
  const problems: string[] = []
  const url = pathToFileURL(file).href
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue()
    requests.push(route.request().url())
    return route.abort()
  })
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))
  await page.goto(url)
  await page.waitForFunction(() => 'claimsTimeline' in globalThis)
  return { page, requests, problems }
}

const shapesOf = (page: Page): Promise<Shape[]> => page.evaluate(() => (globalThis as unknown as { claimsTimeline: { shapes(): Shape[] } }).claimsTimeline.shapes())

if (chromiumPath === undefined) {
  test.skip('(skipped: no Chromium found at CHROMIUM_PATH or /usr/bin/chromium; `apt-get install -y chromium` as root, see the README)', () => {})
} else {
  test('one bar per claim, on its lane, in its master\'s colour, with the mark of why it ended; hover shows the claim; no request leaves the page', async ({ browser, folder }) => {
    let clock = T0
    const cs = await ChangeSources.open({ location: join(folder, 'db'), now: () => clock })
    const ids: number[] = []
    for (const name of ['poller:acme/app', 'poller:acme/lib', 'gerrit:review.acme.org', 'poller:acme/docs']) ids.push(await cs.findChangeSourceId(name))
    const at = async (minutes: number, step: () => Promise<unknown>): Promise<void> => {
      clock = T0 + minutes * MINUTE
      await step()
    }
    await at(5, () => cs.setChangeSourceMaster(ids[0]!, 1))
    await at(6, () => cs.setChangeSourceMaster(ids[1]!, 1))
    await at(20, () => cs.setChangeSourceMaster(ids[2]!, 2))
    await at(30, () => cs.setChangeSourceMaster(ids[0]!, null))
    await at(50, () => cs.setChangeSourceMaster(ids[0]!, 2))
    await at(70, () => cs.masterDeactivated(1))
    await at(75, () => cs.setChangeSourceMaster(ids[1]!, 3))
    await at(90, () => cs.setChangeSourceMaster(ids[3]!, 3))
    const report = await collectClaimsReport(cs, { source: 'a log built for the test' })
    await cs.close()
    const { page, requests, problems } = await open(browser!, folder, report, 'small')

    const shapes = await shapesOf(page)
    assert.is(shapes.length, report.intervals.length, 'one bar per claim interval')
    assert.is(report.intervals.length, 6)
    const marks = new Map(report.endings.map((entry) => [entry.ending, entry.mark]))
    const colourOf = new Map<number, string>()
    for (const interval of report.intervals) {
      const drawn = shapes.filter((shape) => shape.token === interval.token)
      assert.is(drawn.length, 1, `claim ${interval.token} drawn once`)
      const shape = drawn[0]!
      assert.is(report.lanes[shape.lane]!.changesourceid, interval.changesourceid, `claim ${interval.token}'s lane`)
      assert.is(shape.masterid, interval.masterid)
      assert.is(shape.ending, interval.ending)
      assert.is(shape.mark, marks.get(interval.ending))
      if (!colourOf.has(shape.masterid)) colourOf.set(shape.masterid, shape.color)
      assert.is(shape.color, colourOf.get(shape.masterid), `master ${shape.masterid}'s bars share a colour`)
    }
    assert.is(new Set(colourOf.values()).size, colourOf.size, 'each master its own colour')
    assert.equal([...new Set(shapes.map((shape) => shape.mark))].sort(), ['arrow', 'cross', 'tick'])

    const released = shapes.find((shape) => shape.ending === 'released')!
    const box = (await page.locator('#timeline').boundingBox())!
    await page.mouse.move(box.x + released.x + released.width / 2, box.y + released.y + released.height / 2)
    const tooltip = await page.locator('#tooltip').innerText()
    const interval = report.intervals.find((candidate) => candidate.token === released.token)!
    for (const expected of [`master ${interval.masterid}`, `token ${interval.token}`, new Date(interval.from.timestamp).toISOString(), `seq ${interval.to!.seq}`, 'released', '25m']) {
      assert.ok(tooltip.includes(expected), `the tooltip says ${expected}: ${tooltip}`)
    }
    const legend = await page.locator('#legend').innerText()
    for (const expected of ['master 1', 'master 2', 'master 3', 'released (1)', 'master-deactivated (1)', 'still held (4)', 'nobody held it']) {
      assert.ok(legend.includes(expected), `the legend has ${expected}: ${legend}`)
    }
    assert.match(await page.locator('#verify').innerText(), /^The log is whole: 12 records/)
    assert.equal(requests, [], 'no request leaves the page')
    assert.equal(problems, [], 'no script error, no blocked resource')
    const screenshot = join(OUTPUT, 'report-browser.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    assert.ok((await stat(screenshot)).size > 1000, 'a screenshot was kept')
    await page.close()
  })

  test('a lease-expired bar ends at its deadline with its own mark; an unknown reason gets a mark and a legend entry', async ({ browser, folder }) => {
    const claims: ReportClaim[] = [
      { changesourceid: 1, masterid: 1, from: { seq: 2, timestamp: T0 }, to: { seq: 3, timestamp: T0 + 40 * MINUTE, reason: 'lease-expired', expiredAt: T0 + 30 * MINUTE }, leaseMs: 30 * MINUTE },
      { changesourceid: 1, masterid: 2, from: { seq: 4, timestamp: T0 + 45 * MINUTE }, to: { seq: 5, timestamp: T0 + 60 * MINUTE, reason: 'evicted-by-operator' } },
    ]
    const report = buildClaimsReport({
      source: 'hand-made',
      claims,
      firstRecord: { seq: 1, timestamp: T0 },
      registrations: new Map([[1, { seq: 1, timestamp: T0 }]]),
      state: { seq: 5, hash: 'a'.repeat(64), timestamp: T0 + 60 * MINUTE, changeSources: [{ id: 1, name: 'poller:acme/app', masterid: null }] },
      verify: { ok: false, seq: 6, problem: 'its hash does not chain to the record before it', code: 'CHANGESOURCES_CORRUPT_LOG', length: 5, headHash: 'a'.repeat(64) },
    })
    const { page, problems } = await open(browser!, folder, report, 'lease')
    const shapes = await shapesOf(page)
    const lease = shapes.find((shape) => shape.token === 2)!
    const next = shapes.find((shape) => shape.token === 4)!
    assert.is(lease.mark, 'hourglass')
    assert.ok(next.mark !== 'hourglass' && next.mark.length > 0)
    // The scale is linear: 30 minutes of lease against 15 minutes of the next claim.
    assert.ok(Math.abs(lease.width / next.width - 2) < 0.01, `the lease bar ends at its deadline: ${lease.width} vs ${next.width}`)
    const legend = await page.locator('#legend').innerText()
    assert.ok(legend.includes('lease-expired (1)') && legend.includes('evicted-by-operator (1)'), legend)
    assert.match(await page.locator('#verify').innerText(), /damaged at seq 6/)
    assert.equal(problems, [])
    await page.close()
  })

  test('thirty thousand claims: only the lanes in view are drawn, and scrolling draws the others', async ({ browser, folder }) => {
    const lanes = 1000
    const perLane = 30
    const claims: ReportClaim[] = []
    let seq = lanes
    for (let claim = 0; claim < perLane; claim++) {
      for (let lane = 1; lane <= lanes; lane++) {
        const start = T0 + claim * 10 * MINUTE + (lane % 7) * MINUTE
        claims.push({ changesourceid: lane, masterid: 1 + ((lane + claim) % 5), from: { seq: ++seq, timestamp: start }, to: { seq: ++seq, timestamp: start + 2 * MINUTE, reason: claim % 2 ? 'released' : 'master-deactivated' } })
      }
    }
    const report = buildClaimsReport({
      source: 'many',
      claims,
      firstRecord: { seq: 1, timestamp: T0 },
      registrations: new Map(),
      state: { seq, hash: 'b'.repeat(64), timestamp: T0 + perLane * 10 * MINUTE, changeSources: Array.from({ length: lanes }, (_, index) => ({ id: index + 1, name: `poller:${index + 1}`, masterid: null })) },
      verify: { ok: true, length: seq, headHash: 'b'.repeat(64) },
    })
    assert.is(report.intervals.length, lanes * perLane)
    const { page, problems } = await open(browser!, folder, report, 'many')
    const first = await shapesOf(page)
    const visibleLanes = new Set(first.map((shape) => shape.lane))
    assert.ok(visibleLanes.size > 0 && visibleLanes.size < 40, `only the lanes in view: ${visibleLanes.size}`)
    assert.is(first.length, visibleLanes.size * perLane)
    await page.locator('#timeline-scroll').evaluate((element) => (element.scrollTop = element.scrollHeight))
    await page.waitForFunction((count) => {
      const shapes = (globalThis as unknown as { claimsTimeline: { shapes(): Shape[] } }).claimsTimeline.shapes()
      return shapes.some((shape) => shape.lane === count - 1)
    }, lanes)
    assert.equal(problems, [])
    await page.screenshot({ path: join(OUTPUT, 'report-browser-many.png') })
    await page.close()
  })
}

test.run()

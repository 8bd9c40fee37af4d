// `changesources report` (issue 15), run as a user runs it on a LevelDB folder: -o writes one
// self-contained HTML page, --json the same data, and a bad argument is one line on stderr, exit 2,
// and no file written. Runs the build in dist/ (npm test builds first).
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { collectClaimsReport } from '../src/report/collect-claims-report.js'
import { logKey } from '../src/stores/level/level-log-store.js'
import { runCli, type CliRun } from './helpers/cli-run.js'
import { HOUR, T0, writeExampleLog } from './helpers/example-log.js'


const test = suite<{ folder: string; location: string }>('changesources report', { folder: '', location: '' })

test.before.each(async (context) => {
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-cli-report-'))
  context.location = join(context.folder, 'db')
  await writeExampleLog(context.location)
})

test.after.each(async ({ folder }) => {
  await rm(folder, { recursive: true, force: true })
})

function assertUserError(result: CliRun, pattern: RegExp): void {
  assert.is(result.code, 2, `exit status; stderr: ${result.stderr}`)
  assert.is(result.stderr.trim().split('\n').length, 1, `one line on stderr: ${result.stderr}`)
  assert.match(result.stderr, pattern)
  assert.not.match(result.stderr, /\n\s+at /, 'no stack trace')
  assert.is(result.stdout, '')
}

test('-o writes one self-contained HTML page holding the same data as --json', async ({ folder, location }) => {
  const output = join(folder, 'report.html')
  const written = await runCli(['report', location, '-o', output])
  assert.is(written.code, 0, written.stderr)
  assert.match(written.stderr, /wrote .*report\.html: 2 change sources, 3 claims/)
  const html = await readFile(output, 'utf8')
  assert.ok(html.startsWith('<!doctype html>'))
  assert.not.match(html, /<(script|link|img)[^>]+(src|href)=/i, 'nothing loaded from elsewhere')
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/)
  assert.match(html, /The log is whole: 7 records/)

  const json = await runCli(['report', location, '--json'])
  assert.is(json.code, 0, json.stderr)
  const report = JSON.parse(json.stdout)
  const embedded = JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!)
  assert.equal(embedded, report, 'the page holds exactly the --json data')
  const cs = await ChangeSources.open({ location })
  try {
    assert.equal(report, JSON.parse(JSON.stringify(await collectClaimsReport(cs, { source: location }))), 'the library\'s report')
  } finally {
    await cs.close()
  }
  assert.equal(
    report.intervals.map((interval: { token: number; masterid: number; ending: string }) => [interval.token, interval.masterid, interval.ending]),
    [[3, 13, 'released'], [7, 14, 'held'], [4, 13, 'master-deactivated']],
  )
  assert.equal(await readdir(folder), ['db', 'report.html'], 'no temporary file left beside it')
})

test('--since, --until, repeated --changesource and --master narrow the report; --json -o writes the JSON', async ({ folder, location }) => {
  const output = join(folder, 'report.json')
  const result = await runCli([
    'report', location, '--since', '2026-11-24T14:30:00Z', '--until', '2026-11-24T16:30:00Z',
    '--changesource', 'poller:acme/lib', '--changesource', '1', '--master', '13', '--master', '14', '--json', '-o', output,
  ])
  assert.is(result.code, 0, result.stderr)
  const report = JSON.parse(await readFile(output, 'utf8'))
  assert.equal(report.filter, { changesourceids: [2, 1], masterids: [13, 14] })
  assert.equal(report.range, { since: T0 + 1.5 * HOUR, until: T0 + 3.5 * HOUR, from: T0 + 1.5 * HOUR, to: T0 + 3.5 * HOUR })
  assert.equal(report.intervals.map((interval: { token: number }) => interval.token), [3, 4])
  assert.equal(report.state.changeSources.map((changeSource: { masterid: number | null }) => changeSource.masterid), [null, null])
})

test('a damaged log: the report shows the records before the damage, says where it is, and exits 1', async ({ folder, location }) => {
  // Record 4 (master 13 claims poller:acme/lib at 14:00) changed after it was written.
  const db = new Level<string, string>(location)
  await db.open()
  await db.put(logKey(4), JSON.stringify({ ...JSON.parse((await db.get(logKey(4)))!), masterid: 99 }))
  await db.close()

  const json = await runCli(['report', location, '--json'])
  assert.is(json.code, 1, 'exit 1, as verify on a damaged log')
  assert.match(json.stderr, /damaged at seq 4: .*hash chain.*the 3 records before it/)
  const report = JSON.parse(json.stdout)
  assert.equal([report.verify.ok, report.verify.seq, report.verify.length], [false, 4, 3])
  assert.is(report.state.seq, 3, 'the state where the whole records end')
  assert.equal(report.lanes.map((lane: { name: string }) => lane.name), ['poller:acme/app', 'poller:acme/lib'])
  assert.equal(
    report.intervals.map((interval: { token: number; masterid: number; ending: string }) => [interval.token, interval.masterid, interval.ending]),
    [[3, 13, 'held']],
    'the one claim before the damage, still held where the report ends',
  )

  const output = join(folder, 'report.html')
  const written = await runCli(['report', location, '-o', output])
  assert.is(written.code, 1)
  assert.match(await readFile(output, 'utf8'), /The log is damaged at seq 4: .*The 3 records before it are whole, and this report shows them/)

  // --until: a time after the damage's ends the report before it; one before it, where it falls.
  const late = JSON.parse((await runCli(['report', location, '--json', '--until', new Date(T0 + 5 * HOUR).toISOString()])).stdout)
  assert.is(late.state.seq, 3)
  const early = JSON.parse((await runCli(['report', location, '--json', '--until', new Date(T0 + HOUR / 2).toISOString()])).stdout)
  assert.is(early.state.seq, 2)
  assert.equal(early.intervals, [])
})

test('bad arguments: one line on stderr, exit 2, and nothing written', async ({ folder, location }) => {
  const output = join(folder, 'report.html')
  const cases: Array<[string[], RegExp]> = [
    [['report', location], /-o <file>.*or --json/],
    [['report', location, '-o', output, '--changesource', 'poller:nowhere'], /changesource must be an id or name of a change source/],
    [['report', location, '-o', output, '--changesource', '9'], /changesource must be/],
    [['report', location, '-o', output, '--master', '0'], /--master.*a whole number from 1/],
    [['report', location, '-o', output, '--since', 'Tuesday'], /--since.*ISO time/],
    [['report', location, '-o', output, '--since', '2026-11-25', '--until', '2026-11-24'], /--since must not be after --until/],
    [['report', location, '-o', join(folder, 'missing', 'report.html')], /--output must be a file path in a folder that exists/],
    [['report', location, '-o', folder], /--output must be .*not a folder/],
    [['report', join(folder, 'nowhere'), '-o', output], /there is no changesources database/],
    [['report', 'postgres://auditor@localhost:1/none', '--copy', '-o', output], /--copy is for a LevelDB folder/],
  ]
  for (const [args, pattern] of cases) {
    assertUserError(await runCli(args), pattern)
    assert.equal(await readdir(folder), ['db'], `nothing written for ${args.slice(2).join(' ')}`)
  }
  await mkdir(join(folder, 'missing'))
  assert.not.ok(existsSync(output))
})

test.run()

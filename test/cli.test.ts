// The `changesources` command (issue 5), run as a child process on a real LevelDB folder, as a user
// runs it: exit codes, --json parsed, one-line errors without stack traces, the locked-database
// message (the lock held by another process) and --copy. Runs the build in dist/ (npm test builds first).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { logKey } from '../src/stores/level/level-log-store.js'
import { HOUR, T0, writeExampleLog } from './helpers/example-log.js'

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'cli.js')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (data) => (stdout += data))
    child.stderr.on('data', (data) => (stderr += data))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input ?? '')
  })
}

function assertUserError(result: Run, code: number, pattern: RegExp): void {
  assert.is(result.code, code, `exit status; stderr: ${result.stderr}`)
  assert.is(result.stderr.trim().split('\n').length, 1, `one line on stderr: ${result.stderr}`)
  assert.match(result.stderr, pattern)
  assert.not.match(result.stderr, /\n\s+at /, 'no stack trace')
}

const test = suite<{ folder: string; location: string }>('changesources command', { folder: '', location: '' })

test.before.each(async (context) => {
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-cli-'))
  context.location = join(context.folder, 'db')
  // Snapshots every 3 records: the commands read a log that has them.
  await writeExampleLog(context.location, { snapshotEvery: 3 })
})

test.after.each(async ({ folder }) => {
  await rm(folder, { recursive: true, force: true })
})

test('--help exits 0 and lists the commands', async () => {
  const result = await run(['--help'])
  assert.is(result.code, 0)
  for (const command of ['state', 'history', 'verify', 'export', 'import']) assert.match(result.stdout, command)
})

test('state: a table by default; --json now, --at a seq and --at a time', async ({ location }) => {
  const table = await run(['state', location])
  assert.is(table.code, 0, table.stderr)
  assert.is(table.stderr, '', 'no progress bar when stderr is not a terminal')
  assert.match(table.stdout, /poller:acme\/app\s+│ 14/)
  const now = JSON.parse((await run(['state', location, '--json'])).stdout)
  assert.equal(now.changeSources, [
    { id: 1, name: 'poller:acme/app', masterid: 14 },
    { id: 2, name: 'poller:acme/lib', masterid: null },
  ])
  assert.is(now.seq, 7)
  const atSeq = JSON.parse((await run(['state', location, '--at', '4', '--json'])).stdout)
  assert.equal(atSeq.changeSources.map((source: { masterid: number | null }) => source.masterid), [13, 13])
  // Which master ran poller:acme/app at 14:30? 13. At 16:30? none.
  const at1430 = JSON.parse((await run(['state', location, '--at', '2026-11-24T14:30:00Z', '--json'])).stdout)
  assert.is(at1430.changeSources[0].masterid, 13)
  const at1630 = JSON.parse((await run(['state', location, '--at', '2026-11-24T16:30:00Z', '--json'])).stdout)
  assert.equal([at1630.seq, at1630.changeSources[0].masterid], [6, null])
})

test('history: claim intervals with durations and reasons, by master and by change source', async ({ location }) => {
  const result = await run(['history', location, '--master', '13', '--json'])
  assert.is(result.code, 0, result.stderr)
  const { claims, records } = JSON.parse(result.stdout)
  assert.equal(
    claims.map((claim: { changesourceid: number; durationMs: number; to: { reason: string } }) => [claim.changesourceid, claim.durationMs, claim.to.reason]),
    [
      [1, HOUR, 'released'],
      [2, 2 * HOUR, 'master-deactivated'],
    ],
  )
  assert.is(records.length, 4)
  const byName = JSON.parse((await run(['history', location, '--changesource', 'poller:acme/app', '--since', '2026-11-24T16:00:00Z', '--json'])).stdout)
  assert.equal(byName.claims.map((claim: { masterid: number; to: unknown }) => [claim.masterid, claim.to]), [[14, null]])
  const table = await run(['history', location, '--changesource', '2', '--records'])
  assert.match(table.stdout, /2h/)
  assert.match(table.stdout, /master-deactivated/)
})

test('history shows tokens, leases and expiries: the interval of an expired lease ends at its deadline', async ({ folder }) => {
  const location = join(folder, 'leases')
  let clock = T0
  const cs = await ChangeSources.open({ location, now: () => clock, sweepIntervalMs: 0, maxClockSkewMs: 0 })
  const id = await cs.findChangeSourceId('poller:acme/leased')
  const claim = await cs.claimChangeSource(id, 13, { leaseMs: HOUR })
  clock = T0 + HOUR / 2
  await cs.renewLeases(13, [claim])
  clock = T0 + 3 * HOUR
  await cs.claimChangeSource(id, 14)
  await cs.close()

  const result = await run(['history', location, '--json', '--records'])
  assert.is(result.code, 0, result.stderr)
  const { claims } = JSON.parse(result.stdout)
  assert.equal(
    claims.map((interval: { masterid: number; token: number; leaseMs: number | null; durationMs: number; to: { reason: string; expiredAt?: number } | null }) => [
      interval.masterid,
      interval.token,
      interval.leaseMs,
      interval.to && interval.durationMs,
      interval.to && [interval.to.reason, interval.to.expiredAt],
    ]),
    [
      [13, claim.token, HOUR, HOUR + HOUR / 2, ['lease-expired', T0 + HOUR / 2 + HOUR]],
      [14, claim.token + 3, null, null, null],
    ],
  )
  const table = await run(['history', location, '--records'])
  assert.is(table.code, 0, table.stderr)
  assert.match(table.stdout, new RegExp(`token ${claim.token}, lease 1h`))
  assert.match(table.stdout, /lease-expired at 2026-11-24T14:30:00.000Z/)
  assert.match(table.stdout, /leases renewed/)
})

test('verify: exit 0 with the length and head hash; after tampering, exit 1 and the first bad seq', async ({ location }) => {
  const whole = await run(['verify', location, '--json'])
  assert.is(whole.code, 0, whole.stderr)
  const report = JSON.parse(whole.stdout)
  assert.equal([report.ok, report.length], [true, 7])
  const db = new Level<string, string>(location)
  await db.open()
  const stored = JSON.parse((await db.get(logKey(4)))!)
  await db.put(logKey(4), JSON.stringify({ ...stored, masterid: 99 }))
  await db.close()
  const damaged = await run(['verify', location])
  assert.is(damaged.code, 1)
  assert.match(damaged.stdout, /damaged at seq 4/)
  assert.equal(JSON.parse((await run(['verify', location, '--json'])).stdout).seq, 4)
  // The other commands refuse a damaged log in one line, and point at verify.
  assertUserError(await run(['history', location]), 1, /seq 4.*verify/)
  // Up to the record before the damage, history answers: both claims of master 13, still held there.
  const before = await run(['history', location, '--to', '3', '--json'])
  assert.is(before.code, 0, before.stderr)
  assert.equal(JSON.parse(before.stdout).claims.map((claim: { token: number; to: unknown }) => [claim.token, claim.to]), [[3, null]])
  assertUserError(await run(['history', location, '--to', '0']), 2, /--to/)
})

test('export | import: the copy verifies with the same head hash; import refuses a non-empty location and a broken chain', async ({ folder, location }) => {
  const exported = await run(['export', location])
  assert.is(exported.code, 0, exported.stderr)
  const lines = exported.stdout.trim().split('\n')
  assert.is(lines.length, 7)
  assert.equal((await run(['export', location, '--from', '3', '--to', '4'])).stdout.trim().split('\n'), lines.slice(2, 4))
  const copy = join(folder, 'copy')
  const imported = await run(['import', copy], exported.stdout)
  assert.is(imported.code, 0, imported.stderr)
  const original = JSON.parse((await run(['verify', location, '--json'])).stdout)
  assert.equal(JSON.parse((await run(['verify', copy, '--json'])).stdout), original)
  assert.equal(JSON.parse((await run(['state', copy, '--json'])).stdout).changeSources, JSON.parse((await run(['state', location, '--json'])).stdout).changeSources)
  assertUserError(await run(['import', copy], exported.stdout), 2, /empty/)
  const other = join(folder, 'other')
  const broken = [...lines.slice(0, 2), ...lines.slice(3)].join('\n')
  assertUserError(await run(['import', other], broken), 1, /seq 3.*missing/)
  assert.not.ok(existsSync(other), 'a refused import leaves no folder behind')
})

test('user errors: one line, non-zero, no stack trace, and no database created where there was none', async ({ folder, location }) => {
  const missing = join(folder, 'nothing-here')
  assertUserError(await run(['state', missing]), 2, /no changesources database/)
  assert.not.ok(existsSync(missing))
  assertUserError(await run(['verify', missing]), 2, /no changesources database/)
  assertUserError(await run(['state', location, '--at', 'last tuesday']), 2, /--at/)
  assertUserError(await run(['state', location, '--at', '99']), 2, /head \(7\)/)
  assertUserError(await run(['history', location, '--master', 'x']), 2, /--master/)
  assertUserError(await run(['frobnicate']), 2, /unknown command/)
})

test('a database held open by another process: the command says it is locked and offers --copy, which works', async ({ location }) => {
  const holder: ChildProcess = spawn(
    process.execPath,
    ['--input-type=module', '-e', `import { ChangeSources } from ${JSON.stringify(join(import.meta.dirname, '..', 'dist', 'index.js'))}; const cs = await ChangeSources.open({ location: ${JSON.stringify(location)} }); process.stdout.write('open\\n'); process.stdin.on('end', () => cs.close()); process.stdin.resume()`],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once('data', () => resolve())
      holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)))
    })
    assertUserError(await run(['state', location]), 2, /locked.*--copy/)
    const copied = await run(['verify', location, '--copy', '--json'])
    assert.is(copied.code, 0, copied.stderr)
    assert.is(JSON.parse(copied.stdout).length, 7)
  } finally {
    holder.stdin!.end()
    await new Promise((resolve) => holder.once('exit', resolve))
  }
})

test.run()

// The `changesources` command on PostgreSQL (issue 13), as real child processes against the test
// server: a LevelDB log piped from export into import, audits of the URL, the options that do not
// fit a URL, and watch following records that another process appends. The test URL carries a
// password, which must appear in no output.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSources } from '../src/index.js'
import { CLI, runCli, type CliRun } from './helpers/cli-run.js'
import { dropSchema, testPostgres, withClient } from './helpers/postgres.js'

const EXIT_SIGINT = 130
const APPENDER = join(import.meta.dirname, 'helpers', 'postgres-appender.ts')

interface Context {
  folder: string
  location: string
  url: string
  password: string
  schemas: string[]
  exported: string[]
}

const test = suite<Context>('changesources on PostgreSQL', { folder: '', location: '', url: '', password: '', schemas: [], exported: [] })

test.before(async (context) => {
  const { url } = await testPostgres()
  context.url = url
  context.password = decodeURIComponent(new URL(url).password)
  assert.ok(context.password.length >= 8, 'the test URL carries a password, so that the tests can look for it')
  context.folder = await mkdtemp(join(tmpdir(), 'changesources-cli-postgres-'))
  context.location = join(context.folder, 'db')
  // More than one import batch (1 000 records), so that a refused line comes after a written batch.
  const cs = await ChangeSources.open({ location: context.location, sync: false })
  const ids = await Promise.all(Array.from({ length: 700 }, (_, index) => cs.findChangeSourceId(`poller:acme/project-${index}`)))
  await Promise.all(ids.map((id) => cs.setChangeSourceMaster(id, 1 + (id % 5))))
  await cs.masterDeactivated(2)
  await cs.close()
  const exported = await runCli(['export', context.location])
  assert.is(exported.code, 0, exported.stderr)
  context.exported = exported.stdout.trim().split('\n')
})

test.after(async ({ folder, schemas }) => {
  for (const schema of schemas) await dropSchema(schema)
  await rm(folder, { recursive: true, force: true })
})

/** A schema name of the test helpers' form (so that dropSchema accepts it), dropped after the suite. */
function newSchema(context: Context): string {
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  context.schemas.push(schema)
  return schema
}

function assertNoPassword(context: Context, ...runs: Array<Pick<CliRun, 'stdout' | 'stderr'>>): void {
  for (const run of runs) {
    assert.not.ok(run.stdout.includes(context.password), `no password on stdout: ${run.stdout.slice(0, 500)}`)
    assert.not.ok(run.stderr.includes(context.password), `no password on stderr: ${run.stderr}`)
  }
}

/** `changesources export <folder> | changesources import <url> --schema <schema>`, as a shell pipes them. */
function exportIntoImport(context: Context, schema: string): Promise<{ exporting: CliRun; importing: CliRun }> {
  return new Promise((resolve, reject) => {
    const exporting = spawn(process.execPath, [CLI, 'export', context.location])
    const importing = spawn(process.execPath, [CLI, 'import', context.url, '--schema', schema])
    exporting.stdout.pipe(importing.stdin)
    const results = [exporting, importing].map(
      (child) =>
        new Promise<CliRun>((done, failed) => {
          let stdout = ''
          let stderr = ''
          if (child === importing) child.stdout.on('data', (data) => (stdout += data))
          child.stderr.on('data', (data) => (stderr += data))
          child.on('error', failed)
          child.on('close', (code, signal) => done({ code, signal, stdout: child === exporting ? '(piped)' : stdout, stderr }))
        }),
    )
    Promise.all(results).then(([exported, imported]) => resolve({ exporting: exported!, importing: imported! }), reject)
  })
}

async function logLength(schema: string): Promise<number> {
  const { url } = await testPostgres()
  return withClient(url, async (client) => Number((await client.query(`SELECT count(*) AS n FROM "${schema}".log`)).rows[0].n))
}

async function schemaExists(schema: string): Promise<boolean> {
  const { url } = await testPostgres()
  return withClient(url, async (client) => (await client.query('SELECT to_regnamespace($1) AS found', [schema])).rows[0].found !== null)
}

test('export from a LevelDB folder piped into import to PostgreSQL: state and verify on the URL equal the folder', async (context) => {
  const schema = newSchema(context)
  const { exporting, importing } = await exportIntoImport(context, schema)
  assert.is(exporting.code, 0, exporting.stderr)
  assert.is(importing.code, 0, importing.stderr)
  assert.match(importing.stderr, new RegExp(`imported ${context.exported.length} records into postgresql://[^:]+:\\*\\*\\*@`))
  assertNoPassword(context, exporting, importing)
  for (const command of [['state', '--json'], ['state', '--at', '500', '--json'], ['verify', '--json'], ['history', '--master', '2', '--json'], ['export']]) {
    const original = await runCli([command[0]!, context.location, ...command.slice(1)])
    const copy = await runCli([command[0]!, context.url, ...command.slice(1), '--schema', schema])
    assert.is(original.code, 0, original.stderr)
    assert.is(copy.code, 0, copy.stderr)
    if (command[0] === 'history') {
      // Open intervals are measured up to now, which moves between the two runs.
      const claims = (run: CliRun) => (JSON.parse(run.stdout) as { claims: Array<{ durationMs?: number; to: unknown }> }).claims.map(({ durationMs, ...claim }) => (claim.to === null ? claim : { ...claim, durationMs }))
      assert.equal(claims(copy), claims(original), 'history')
    } else assert.is(copy.stdout, original.stdout, command.join(' '))
    assertNoPassword(context, copy)
  }
  const table = await runCli(['state', context.url, '--schema', schema])
  assert.is(table.code, 0, table.stderr)
  assert.match(table.stdout, new RegExp(`State after seq ${context.exported.length} of ${context.exported.length}`))
})

test('import refuses a schema whose log is not empty, and changes nothing there', async (context) => {
  const schema = newSchema(context)
  const first = await runCli(['import', context.url, '--schema', schema], { input: context.exported.slice(0, 10).join('\n') })
  assert.is(first.code, 0, first.stderr)
  const again = await runCli(['import', context.url, '--schema', schema], { input: context.exported.join('\n') })
  assert.is(again.code, 2, again.stderr)
  assert.match(again.stderr, /^changesources: import refused: postgresql:\/\/[^:]+:\*\*\*@.* already holds records .*nothing was imported\n$/)
  assertNoPassword(context, first, again)
  assert.is(await logLength(schema), 10)
  assert.is(JSON.parse((await runCli(['verify', context.url, '--schema', schema, '--json'])).stdout).length, 10)
})

test('import into PostgreSQL is all or nothing: a bad line after a whole batch leaves the log empty', async (context) => {
  const schema = newSchema(context)
  const lines = [...context.exported]
  assert.ok(lines.length > 1100, `more than one batch: ${lines.length}`)
  lines[1100] = lines[1100]!.replace(/"hash":"[0-9a-f]/, '"hash":"x')
  const refused = await runCli(['import', context.url, '--schema', schema], { input: lines.join('\n') })
  assert.is(refused.code, 1, refused.stderr)
  assert.match(refused.stderr, /import refused the input at seq 1101: .*nothing was imported/)
  assert.is(await logLength(schema), 0, 'the batch written before the bad line is rolled back')
  const retried = await runCli(['import', context.url, '--schema', schema], { input: context.exported.join('\n') })
  assert.is(retried.code, 0, 'the empty log left behind takes the next import: ' + retried.stderr)
  assert.is(await logLength(schema), context.exported.length)
})

test('options that do not fit the location are refused (exit 2); a missing schema is not created', async (context) => {
  const missing = newSchema(context)
  const checks: Array<[string[], RegExp]> = [
    [['state', context.url, '--copy'], /--copy is for a LevelDB folder/],
    [['verify', context.url, '--copy'], /--copy is for a LevelDB folder/],
    [['state', context.location, '--schema', 'other'], /--schema is for a postgres:\/\/ URL/],
    [['state', context.url, '--schema', 'Bad-Name'], /lower-case PostgreSQL identifier/],
    [['state', context.url, '--schema', missing], /there is no changesources database at postgresql:\/\/[^:]+:\*\*\*@.*\(schema t_/],
    [['watch', context.url, '--schema', missing], /there is no changesources database/],
    [['watch', context.location], /watch follows a log on PostgreSQL .*LevelDB folder is open in one process at a time/],
    [['state', context.url.replace(/:(\d+)\//, ':1/')], /could not be read: .*ECONNREFUSED/],
  ]
  for (const [args, pattern] of checks) {
    const result = await runCli(args)
    assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
    assert.is(result.stdout, '')
    assert.is(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`)
    assert.match(result.stderr, pattern)
    assertNoPassword(context, result)
  }
  assert.is(await schemaExists(missing), false, 'an audit of a missing schema does not create it')
})

test('--help shows URLs without a password', async () => {
  for (const args of [['--help'], ['watch', '--help'], ['import', '--help']]) {
    const help = await runCli(args)
    assert.is(help.code, 0)
    assert.match(help.stdout, /postgres:\/\//)
    assert.not.match(help.stdout, /postgres(ql)?:\/\/[^@\s/]*:[^@\s/]*@/, 'no user:password@ in an example')
  }
})

/** A running `changesources watch`, its stdout as lines so far. */
interface Watching {
  readonly child: ChildProcessWithoutNullStreams
  readonly lines: string[]
  stderr: string
  /** Resolves once `count` lines have arrived (or rejects when it exits first). */
  until(count: number): Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function watch(args: string[], env: NodeJS.ProcessEnv = {}): Watching {
  const child = spawn(process.execPath, [CLI, 'watch', ...args], { env: { ...process.env, ...env } })
  const lines: string[] = []
  let partial = ''
  const waiting: Array<{ count: number; resolve: () => void }> = []
  const watching: Watching = {
    child,
    lines,
    stderr: '',
    until: (count) =>
      new Promise<void>((resolve, reject) => {
        if (lines.length >= count) return resolve()
        waiting.push({ count, resolve })
        void watching.exited.then(({ code }) => reject(new Error(`watch exited (${code}) after ${lines.length} lines: ${watching.stderr}`)))
      }),
    exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
  }
  child.stdout.on('data', (data: Buffer) => {
    const parts = (partial + data.toString()).split('\n')
    partial = parts.pop()!
    lines.push(...parts)
    for (const waiter of waiting) if (lines.length >= waiter.count) waiter.resolve()
  })
  child.stderr.on('data', (data) => (watching.stderr += data))
  return watching
}

function append(context: Context, schema: string, names: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', APPENDER, context.url, schema, ...names])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (data) => (stdout += data))
    child.stderr.on('data', (data) => (stderr += data))
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`appender exited ${code}: ${stderr}`))))
  })
}

test('watch --from --json prints the records from that seq, then those another process appends, each once, and ends on SIGINT', async (context) => {
  const schema = newSchema(context)
  const head = 12
  const imported = await runCli(['import', context.url, '--schema', schema], { input: context.exported.slice(0, head).join('\n') })
  assert.is(imported.code, 0, imported.stderr)
  const from = 5
  const watching = watch([context.url, '--schema', schema, '--from', String(from), '--json'])
  await watching.until(head - from + 1)
  // Two appending processes in a row: each registers and claims, so 2 records per name.
  assert.match(await append(context, schema, ['late-a', 'late-b']), /^done 16\n$/)
  assert.match(await append(context, schema, ['late-c']), /^done 18\n$/)
  await watching.until(18 - from + 1)
  watching.child.kill('SIGINT')
  const { code } = await watching.exited
  assert.is(code, EXIT_SIGINT, watching.stderr)
  assert.is(watching.stderr, '')
  const records = watching.lines.map((line) => JSON.parse(line) as { seq: number; type: string; name?: string; masterid?: number; hash: string })
  assert.equal(records.map((record) => record.seq), Array.from({ length: 18 - from + 1 }, (_, index) => from + index), 'every seq from --from, once, in order')
  assert.equal(watching.lines.slice(0, head - from + 1), context.exported.slice(from - 1, head).map((line) => JSON.stringify(JSON.parse(line))), 'the stored records')
  assert.equal(records.slice(head - from + 1).map((record) => [record.type, record.name ?? record.masterid]), [
    ['ChangeSourceRegistered', 'late-a'],
    ['MasterClaimed', 7],
    ['ChangeSourceRegistered', 'late-b'],
    ['MasterClaimed', 7],
    ['ChangeSourceRegistered', 'late-c'],
    ['MasterClaimed', 7],
  ])
  assertNoPassword(context, { stdout: watching.lines.join('\n'), stderr: watching.stderr })
})

test('watch without --from prints only new records, as rows under a header; a closed pipe ends it silently', async (context) => {
  const schema = newSchema(context)
  const imported = await runCli(['import', context.url, '--schema', schema], { input: context.exported.slice(0, 3).join('\n') })
  assert.is(imported.code, 0, imported.stderr)
  const watching = watch([context.url, '--schema', schema])
  await watching.until(1)
  assert.match(watching.lines[0]!, /^seq\s+time\s+event\s+change source\s+master\s+detail$/)
  await append(context, schema, ['row-a'])
  await watching.until(3)
  assert.match(watching.lines[1]!, /^4\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+ChangeSourceRegistered\s+\d+ row-a\s+—\s+—$/)
  assert.match(watching.lines[2]!, /^5\s+\S+\s+MasterClaimed\s+\d+\s+7\s+token 5$/)
  // The reader goes away; the next record written meets the closed pipe.
  watching.child.stdout.destroy()
  await append(context, schema, ['row-b'])
  const { code } = await watching.exited
  assert.is(code, 141, watching.stderr)
  assert.is(watching.stderr, '')
})

test("watch keeps following when the server cuts its connections (pg_terminate_backend)", async (context) => {
  const schema = newSchema(context)
  const imported = await runCli(['import', context.url, '--schema', schema], { input: context.exported.slice(0, 2).join('\n') })
  assert.is(imported.code, 0, imported.stderr)
  const applicationName = `watch-${randomBytes(4).toString('hex')}`
  const watching = watch([context.url, '--schema', schema, '--from', '1', '--json'], { PGAPPNAME: applicationName })
  await watching.until(2)
  const { superuserUrl } = await testPostgres()
  const terminated = await withClient(superuserUrl, async (client) =>
    (await client.query('SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows[0].n,
  )
  assert.ok(Number(terminated) >= 1, `the watch's connections were found and cut: ${terminated}`)
  await append(context, schema, ['after-the-cut'])
  await watching.until(4)
  watching.child.kill('SIGINT')
  const { code } = await watching.exited
  assert.is(code, EXIT_SIGINT, watching.stderr)
  assert.equal(watching.lines.map((line) => (JSON.parse(line) as { seq: number }).seq), [1, 2, 3, 4])
  assertNoPassword(context, { stdout: watching.lines.join('\n'), stderr: watching.stderr })
})

test.run()

/**
 * One master as an OS process, for the multi-process PostgreSQL tests (driven by
 * helpers/master-processes.ts):
 *   node --import tsx test/helpers/postgres-master.ts '<json: { connectionString, schema, applicationName, pollIntervalMs }>'
 * It opens its own ChangeSources on the schema, keeps every record its changes$ yields, prints
 * `{"event":"ready","head":N}`, then answers JSON requests read from stdin, one a line and
 * concurrently (`{ id, op, ... }` → `{ id, ok: true, result }` or `{ id, ok: false, code, message }`).
 * A `loop` claims and releases one change source until `stopLoops`, retrying each command until it
 * is acknowledged, and prints `{"event":"ack",...}` for each acknowledged command with the seq of
 * the record it appended, and `{"event":"fail",...}` for each failure.
 */
import { createInterface } from 'node:readline'
import { ChangeSources, ErrorCode, isChangeSourcesError, type ChangeRecord } from '../../src/index.js'

interface Config {
  readonly connectionString: string
  readonly schema: string
  readonly applicationName: string
  readonly pollIntervalMs: number
  /** Records between snapshots; 0 (the default here) for none. */
  readonly snapshotEvery?: number
}

const config = JSON.parse(process.argv[2]!) as Config
const print = (message: object): void => void process.stdout.write(JSON.stringify(message) + '\n')

const component = await ChangeSources.open({
  postgres: {
    connectionString: config.connectionString,
    schema: config.schema,
    pollIntervalMs: config.pollIntervalMs,
    application_name: config.applicationName,
  },
  // Snapshots are other transactions: off unless a test is about them.
  snapshotEvery: config.snapshotEvery ?? 0,
})
const openHead = component.head
const seen: ChangeRecord[] = []
component.changes$.subscribe((record) => seen.push(record))

/** Failures' messages, all of them, so that the test can check that none names the password. */
const messages: string[] = []
let loopsStopped = false

function failure(error: unknown): { code: string; message: string } {
  const message = error instanceof Error ? error.message : String(error)
  messages.push(message)
  return { code: isChangeSourcesError(error) ? error.code : 'NOT_OURS', message }
}

function lastRecordOf(changesourceid: number): ChangeRecord | undefined {
  for (let index = seen.length - 1; index >= 0; index--) {
    const record = seen[index]!
    if ((record.type === 'MasterClaimed' || record.type === 'MasterReleased') && record.changesourceid === changesourceid) return record
  }
  return undefined
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds))

/**
 * Claims and releases `cs` as `master` until stopped, each command retried until acknowledged.
 * After a WRITE_FAILED (nothing was written) the change source must still be as it was: a
 * violation is reported otherwise.
 */
async function loop(cs: number, master: number): Promise<{ claims: number; releases: number; failures: string[]; violations: string[] }> {
  const summary = { claims: 0, releases: 0, failures: [] as string[], violations: [] as string[] }
  let claiming = (await component.getChangeSource(cs))?.masterid !== master
  while (!loopsStopped) {
    const before = (await component.getChangeSource(cs))?.masterid ?? null
    try {
      await component.setChangeSourceMaster(cs, claiming ? master : null)
    } catch (error) {
      const { code, message } = failure(error)
      summary.failures.push(code)
      print({ event: 'fail', cs, op: claiming ? 'claim' : 'release', code, message })
      // Once the log answers again, a batch that failed outright must have left no trace.
      while (!(await component.catchUp().then(() => true, () => false))) await sleep(20)
      const after = (await component.getChangeSource(cs))?.masterid ?? null
      if (code === ErrorCode.writeFailed && after !== before) summary.violations.push(`WRITE_FAILED ${claiming ? 'claim' : 'release'} of ${cs} was stored`)
      continue
    }
    const record = lastRecordOf(cs)
    const expected = claiming ? 'MasterClaimed' : 'MasterReleased'
    const now = (await component.getChangeSource(cs))?.masterid ?? null
    if (record?.type !== expected || now !== (claiming ? master : null)) {
      summary.violations.push(`acknowledged ${expected} of ${cs} but the last record is ${JSON.stringify(record)} and masterid ${now}`)
    } else {
      print({ event: 'ack', cs, type: expected, seq: record.seq, hash: record.hash })
    }
    if (claiming) summary.claims++
    else summary.releases++
    claiming = !claiming
  }
  return summary
}

type Request = { id: number; op: string; [field: string]: unknown }

async function answer(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'find':
      return component.findChangeSourceId(request.name as string)
    case 'claim':
      await component.setChangeSourceMaster(request.cs as number, request.master as number)
      return true
    case 'release':
      await component.setChangeSourceMaster(request.cs as number, null)
      return true
    case 'deactivate':
      return component.masterDeactivated(request.master as number)
    case 'catchUp':
      return component.catchUp()
    case 'head':
      return component.head
    case 'state':
      return component.getChangeSources()
    case 'seen':
      return { openHead, records: seen }
    case 'messages':
      return messages
    case 'loop':
      return loop(request.cs as number, request.master as number)
    case 'stopLoops':
      loopsStopped = true
      return true
    case 'close':
      await component.close()
      setImmediate(() => process.exit(0))
      return true
    default:
      throw new Error(`unknown op ${request.op}`)
  }
}

print({ event: 'ready', head: openHead })
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Request
  answer(request).then(
    (result) => print({ id: request.id, ok: true, result }),
    (error: unknown) => print({ id: request.id, ok: false, ...failure(error) }),
  )
}

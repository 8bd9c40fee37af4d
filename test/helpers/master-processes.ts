/**
 * Masters as OS processes (helpers/postgres-master.ts), each with its own ChangeSources on one
 * PostgreSQL schema, and the checks every multi-process test makes at its end: each process's
 * changes$ is the log's history since it opened, each record once, and every acknowledged change is
 * in the log (read with AuditLog).
 */
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import * as assert from 'uvu/assert'
import { AuditLog, type ChangeRecord, type ChangeSource } from '../../src/index.js'
import { withClient } from './postgres.js'
import { ChildPeer } from './child-peer.js'

const CHILD = fileURLToPath(new URL('./postgres-master.ts', import.meta.url))

export interface Ack {
  readonly cs: number
  readonly type: 'MasterClaimed' | 'MasterReleased'
  readonly seq: number
  readonly hash: string
}

export interface Failure {
  readonly cs: number
  readonly op: string
  readonly code: string
  readonly message: string
}

export { RequestFailed } from './child-peer.js'

export class MasterProcess extends ChildPeer {
  readonly acks: Ack[] = []
  readonly failures: Failure[] = []
  readonly ready: Promise<number>

  constructor(
    readonly applicationName: string,
    config: { connectionString: string; schema: string; pollIntervalMs: number; snapshotEvery?: number },
  ) {
    super(applicationName, CHILD, { ...config, applicationName }, (event) => {
      if (event.event === 'ack') this.acks.push(event as unknown as Ack)
      else if (event.event === 'fail') this.failures.push(event as unknown as Failure)
    })
    this.ready = this.opened.then((event) => event.head as number)
  }

  /** Starts `count` processes on one schema and waits until each has opened. */
  static async start(
    count: number,
    config: { connectionString: string; schema: string; pollIntervalMs?: number; snapshotEvery?: number },
    prefix = 'master',
  ): Promise<MasterProcess[]> {
    const masters = Array.from(
      { length: count },
      (_, index) => new MasterProcess(`${prefix}-${process.pid}-${index + 1}`, { pollIntervalMs: 100, ...config }),
    )
    await Promise.all(masters.map((master) => master.ready))
    return masters
  }

  async close(): Promise<void> {
    if (this.exited) return
    const exited = once(this.child, 'exit')
    await this.request('close').catch(() => this.child.kill('SIGKILL'))
    await exited
  }
}

/** The whole log of a schema, read with an audit of its own. */
export async function logRecords(connectionString: string, schema: string): Promise<ChangeRecord[]> {
  const audit = await AuditLog.open({ postgres: { connectionString, schema } })
  try {
    const records: ChangeRecord[] = []
    for await (const record of audit.read()) records.push(record)
    const report = await audit.verify()
    assert.ok(report.ok, `the log verifies: ${JSON.stringify(report)}`)
    return records
  } finally {
    await audit.close()
  }
}

/**
 * Catches every process up, then checks that: each process's changes$ yielded exactly the log's
 * records after the head it opened at, in seq order, each once; every process's queries agree;
 * every acknowledged change is the record at its seq. Returns the log.
 */
export async function checkConverged(masters: readonly MasterProcess[], connectionString: string, schema: string): Promise<ChangeRecord[]> {
  const heads = await Promise.all(masters.map((master) => master.request<number>('catchUp')))
  const log = await logRecords(connectionString, schema)
  assert.equal(log.map((record) => record.seq), log.map((_, index) => index + 1), 'the log has no gap')
  for (const [index, master] of masters.entries()) {
    assert.ok(heads[index]! <= log.length, `${master.applicationName} caught up to ${heads[index]}, within the log`)
  }
  // A head asked after every process caught up is the log's: all must have reached it.
  const finalHeads = await Promise.all(masters.map((master) => master.request<number>('catchUp')))
  assert.equal(finalHeads, masters.map(() => log.length), 'every process is at the log head')
  const states = await Promise.all(masters.map((master) => master.request<ChangeSource[]>('state')))
  for (const [index, master] of masters.entries()) {
    const { openHead, records } = await master.request<{ openHead: number; records: ChangeRecord[] }>('seen')
    assert.equal(records, log.slice(openHead), `${master.applicationName}'s changes$ is the log after seq ${openHead}, each record once`)
    assert.equal(states[index], states[0], `${master.applicationName}'s queries agree with ${masters[0]!.applicationName}'s`)
    for (const ack of master.acks) {
      const stored = log[ack.seq - 1]
      assert.ok(stored !== undefined && stored.hash === ack.hash && stored.type === ack.type && stored.changesourceid === ack.cs, `acknowledged ${JSON.stringify(ack)} is in the log`)
    }
  }
  return log
}

/** Backends of the processes whose application_name starts with `prefix` (superuser connection). */
export async function backendsOf(superuserUrl: string, prefix: string): Promise<number[]> {
  return withClient(superuserUrl, async (client) => {
    const result = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE starts_with(application_name, $1)', [prefix])
    return result.rows.map((row) => row.pid)
  })
}

export async function terminateBackends(superuserUrl: string, prefix: string, where = 'true'): Promise<number> {
  return withClient(superuserUrl, async (client) => {
    const result = await client.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE starts_with(application_name, $1) AND pid <> pg_backend_pid() AND (${where})`,
      [prefix],
    )
    return result.rows[0]!.n
  })
}

/** Waits until `condition()` resolves true, asking again every `everyMs`; fails after `timeoutMs`. */
export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/**
 * The store's session (the connection that listens and appends) is the one whose last statement
 * was LISTEN or an append; a turn's connection ends on COMMIT or ROLLBACK.
 */
export const SESSION = "(query LIKE 'LISTEN%' OR query LIKE 'INSERT INTO%' OR query LIKE 'WITH written%')"

/** How many sessions (connections that listen) a process (by application_name) has. */
export async function listenersOf(superuserUrl: string, applicationName: string): Promise<number> {
  return withClient(superuserUrl, async (client) => {
    const result = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND ${SESSION}`, [applicationName])
    return result.rows[0]!.n
  })
}

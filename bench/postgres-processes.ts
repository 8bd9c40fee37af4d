/**
 * The PostgreSQL section's measurements across OS processes (postgres-child.ts), on the real
 * server: several masters writing at once, and the delay from one process's append to another's
 * changes$ (with raw `pg` processes doing the same in the same run).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { dropSchema, schemaName, withClient } from './postgres-server.js'
import { quantile } from './util.js'

// Compiled by `npm run bench` (build-bench/bench/*.js); under tsx while developing.
const childFile = fileURLToPath(new URL(`./postgres-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url))
const childArgs = import.meta.url.endsWith('.ts') ? ['--import', 'tsx', childFile] : [childFile]

interface Child {
  readonly process: ChildProcessWithoutNullStreams
  /** Every line printed after `ready`. */
  readonly lines: string[]
  readonly ready: Promise<void>
  readonly exited: Promise<void>
}

function startChild(args: readonly string[]): Child {
  const child = spawn(process.execPath, [...childArgs, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: string[] = []
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let markReady: () => void
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  createInterface({ input: child.stdout }).on('line', (line) => (line === 'ready' ? markReady() : lines.push(line)))
  const exited = new Promise<void>((resolve, reject) =>
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`bench child ${args[0]} exited with ${code ?? signal}: ${stderr.trim()}`)))),
  )
  // A child that dies before `ready` must fail the wait, not hang it.
  return { process: child, lines, ready: Promise.race([ready, exited.then(() => Promise.reject(new Error(`bench child ${args[0]} ended before ready: ${stderr.trim()}`)))]), exited }
}

async function startAll(argsList: ReadonlyArray<readonly string[]>): Promise<Child[]> {
  const children = argsList.map(startChild)
  try {
    await Promise.all(children.map((child) => child.ready))
  } catch (error) {
    for (const child of children) child.process.kill()
    throw error
  }
  return children
}

export interface ClusterFigure {
  /** Records per second, all processes together (each process's own rate over its own window, summed). */
  readonly total: number
  /** Appends that lost the race for the head, over all appends. */
  readonly lostShare: number
  /** Calls refused with AppendConflictError (ours only). */
  readonly conflicts: number
  readonly perProcess: readonly number[]
  /** Per call, over every process's calls (ours only). */
  readonly p50?: number
  readonly p99?: number
}

export type ClusterKind = 'ours' | 'raw-race' | 'raw-free'

/**
 * One run: `processes` processes writing on one log, warming up together for `warmMs`, then measured
 * for `ms`. Ours: `callers` calls in flight in each, on its own change sources. Raw: one connection
 * each, appending `callers` rows a statement.
 */
export async function clusterRun(url: string, kind: ClusterKind, processes: number, callers: number, warmMs: number, ms: number): Promise<ClusterFigure> {
  const schema = schemaName(kind.replace('-', '_'))
  const table = `"${schema}".raw`
  await withClient(url, async (client) => {
    if (kind === 'ours') return
    await client.query(`CREATE SCHEMA "${schema}"`)
    const key = kind === 'raw-race' ? 'seq bigint PRIMARY KEY' : 'seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY'
    await client.query(`CREATE TABLE ${table} (${key}, value text NOT NULL)`)
  })
  try {
    const argsList = Array.from({ length: processes }, (_, index) =>
      kind === 'ours' ? ['ours-cluster', url, schema, `master${index}`, String(callers), String(warmMs), String(ms)] : [kind, url, table, String(callers), String(warmMs), String(ms)],
    )
    const children = await startAll(argsList)
    for (const child of children) child.process.stdin.write('go\n')
    await Promise.all(children.map((child) => child.exited))
    const results = children.map((child) => JSON.parse(child.lines[0]!) as { records: number; us: number; appends: number; lost: number; conflicts: number; p50?: number; p99?: number })
    const perProcess = results.map((result) => (result.records / result.us) * 1e6)
    const appends = results.reduce((sum, result) => sum + result.appends, 0)
    const lost = results.reduce((sum, result) => sum + result.lost, 0)
    return {
      total: perProcess.reduce((sum, rate) => sum + rate, 0),
      lostShare: appends === 0 ? NaN : lost / appends,
      conflicts: results.reduce((sum, result) => sum + result.conflicts, 0),
      perProcess,
      ...(kind === 'ours' ? { p50: median(results.map((result) => result.p50!)), p99: Math.max(...results.map((result) => result.p99!)) } : {}),
    }
  } finally {
    await dropSchema(url, schema)
  }
}

export interface LatencyFigure {
  /** From the writer's acknowledgement to the other process's receipt, µs. */
  readonly fromAcknowledged: readonly number[]
  /** From the writer's call to the other process's receipt, µs. */
  readonly fromCall: readonly number[]
  /** Sent, never received. */
  readonly missing: number
}

/**
 * One run: `count` appends (ours: a claim or a release through ChangeSources; raw: a bare
 * pg_notify), one at a time with `gapMs` between them, in one process; another receives them.
 */
export async function latencyRun(url: string, kind: 'ours' | 'raw', count: number, gapMs: number): Promise<LatencyFigure> {
  const schema = schemaName(`latency_${kind}`)
  const channel = `bench_${schema}`
  try {
    const [receiver] = await startAll([kind === 'ours' ? ['ours-watch', url, schema] : ['raw-listen', url, channel]])
    const [sender] = await startAll([kind === 'ours' ? ['ours-append', url, schema, String(count), String(gapMs)] : ['raw-notify', url, channel, String(count), String(gapMs)]])
    receiver!.process.stdin.write('go\n')
    sender!.process.stdin.write('go\n')
    await sender!.exited
    // The last notification may still be on its way: a moment for it, then the receiver is ended.
    await new Promise((resolve) => setTimeout(resolve, 200))
    receiver!.process.stdin.end()
    await receiver!.exited
    const sent = JSON.parse(sender!.lines[0]!) as Array<{ seq: number; start: number; acknowledged: number }>
    const received = new Map<number, number>()
    for (const line of receiver!.lines) {
      const { seq, at } = JSON.parse(line) as { seq: number; at: number }
      if (!received.has(seq)) received.set(seq, at)
    }
    const fromAcknowledged: number[] = []
    const fromCall: number[] = []
    for (const { seq, start, acknowledged } of sent) {
      const at = received.get(seq)
      if (at === undefined) continue
      fromAcknowledged.push(at - acknowledged)
      fromCall.push(at - start)
    }
    return { fromAcknowledged, fromCall, missing: sent.length - fromAcknowledged.length }
  } finally {
    if (kind === 'ours') await dropSchema(url, schema)
  }
}

export function latencySummary(samples: readonly number[]): { p50: number; p99: number; max: number } {
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: Math.max(...samples) }
}

function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

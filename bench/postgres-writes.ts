/**
 * Our writes on PostgreSQL through the public API, durable (sync: true, the default), each run in
 * a fresh schema: one caller awaiting each call, and callers in flight at once.
 */
import { ChangeSources } from '../src/index.js'
import type { OpFigure } from './writes.js'
import { PG_WARM_CALLS } from './postgres-baselines.js'
import { dropSchema, schemaName } from './postgres-server.js'
import { nowNs, quantile, settle, usSince } from './util.js'

export async function withPostgresInstance<T>(url: string, body: (cs: ChangeSources) => Promise<T>): Promise<T> {
  const schema = schemaName('ours')
  const cs = await ChangeSources.open({ postgres: { connectionString: url, schema } })
  try {
    return await body(cs)
  } finally {
    await cs.close()
    await dropSchema(url, schema)
  }
}

/** Registers `count` change sources at once (one group-committed batch or a few): setup, not measured. */
export async function registerAll(cs: ChangeSources, prefix: string, count: number): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => cs.findChangeSourceId(`${prefix}${index}`)))
}

/**
 * One run: `count` calls, each awaited, alternately claiming and releasing change sources (each
 * call appends one record), after PG_WARM_CALLS alike.
 */
export async function postgresSequential(url: string, count: number): Promise<OpFigure> {
  return withPostgresInstance(url, async (cs) => {
    const ids = await registerAll(cs, 'poller:repo-', 100)
    // Call i claims ids[(i/2) % 100] when i is even and releases it when i is odd.
    const call = (index: number) => cs.setChangeSourceMaster(ids[(index >> 1) % ids.length]!, index % 2 === 0 ? 1 : null)
    for (let index = 0; index < PG_WARM_CALLS; index++) await call(index)
    await settle()
    const latencies = new Float64Array(count)
    const start = nowNs()
    for (let index = 0; index < count; index++) {
      const t = nowNs()
      await call(PG_WARM_CALLS + index)
      latencies[index] = usSince(t)
    }
    return figure(count, usSince(start), Array.from(latencies))
  })
}

/** One run: `callers` callers in flight, each alternately claiming and releasing its own change source. */
export async function postgresConcurrent(url: string, callers: number, callsPerCaller: number): Promise<OpFigure> {
  return withPostgresInstance(url, async (cs) => {
    const ids = await registerAll(cs, 'poller:repo-', callers)
    const run = async (calls: number, latencies: number[] | undefined) =>
      Promise.all(
        ids.map(async (id) => {
          for (let call = 0; call < calls; call++) {
            const t = nowNs()
            await cs.setChangeSourceMaster(id, call % 2 === 0 ? 1 : null)
            latencies?.push(usSince(t))
          }
        }),
      )
    await run(10, undefined)
    await settle()
    const latencies: number[] = []
    const start = nowNs()
    await run(callsPerCaller, latencies)
    return figure(callers * callsPerCaller, usSince(start), latencies)
  })
}

function figure(calls: number, us: number, latencies: number[]): OpFigure {
  const perSecond = (calls / us) * 1e6
  return { callsPerSecond: perSecond, recordsPerSecond: perSecond, usPerCall: us / calls, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) }
}

/**
 * Writes through the public API: sequential (one caller awaiting each call) and concurrent
 * (callers in flight, durable mode, so the writer's group commit is at work).
 */
import { ChangeSources } from '../src/index.js'
import { collidingNames } from './colliding-names.js'
import { nowNs, quantile, settle, tempFolder, usSince } from './util.js'

export interface OpFigure {
  /** Calls per second. */
  callsPerSecond: number
  /** Records appended per second (a cycle appends 2, a conflicting claim none). */
  recordsPerSecond: number
  usPerCall: number
  p50: number
  p99: number
}

/** Calls of each kind made, unmeasured, before the measured ones (baselines.ts warms alike). */
export const WARM_CALLS = 1000

export type SequentialKind = 'register' | 'claim' | 'release' | 'cycle' | 'conflict'

async function withInstance<T>(sync: boolean, body: (cs: ChangeSources) => Promise<T>): Promise<T> {
  const folder = await tempFolder(sync ? 'durable' : 'relaxed')
  const cs = await ChangeSources.open({ location: folder.path, sync })
  try {
    return await body(cs)
  } finally {
    await cs.close()
    await folder.cleanup()
  }
}

async function timeCalls(count: number, recordsPerCall: number, call: (index: number) => Promise<unknown>) {
  await settle()
  const latencies = new Float64Array(count)
  const start = nowNs()
  for (let index = 0; index < count; index++) {
    const t = nowNs()
    await call(index)
    latencies[index] = usSince(t)
  }
  const us = usSince(start)
  const all = Array.from(latencies)
  return {
    callsPerSecond: (count / us) * 1e6,
    recordsPerSecond: ((count * recordsPerCall) / us) * 1e6,
    usPerCall: us / count,
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
  }
}

/**
 * One run: in a fresh log, `count` registrations, then a claim of each, a release of each,
 * `count` claim-release cycles, and `count` conflicting claims (refused, nothing appended).
 */
export async function sequentialWrites(sync: boolean, count: number): Promise<Record<SequentialKind, OpFigure>> {
  return withInstance(sync, async (cs) => {
    // Warm the code paths (JIT) on ids that the measured calls do not touch. Profiled, the first
    // ~1,500 calls of a fresh process include pauses of 1-5 ms while V8 compiles (on 2 cores its
    // compiler threads compete with LevelDB's), which dominated the mean of 3,000 calls; the
    // figures here are the steady state, and the raw baseline is warmed alike.
    const warm: number[] = []
    for (let index = 0; index < WARM_CALLS; index++) warm.push(await cs.findChangeSourceId(`warm-${index}`))
    for (const id of warm) await cs.setChangeSourceMaster(id, 9)
    for (const id of warm) await cs.setChangeSourceMaster(id, null)
    const ids: number[] = []
    const register = await timeCalls(count, 1, async (index) => ids.push(await cs.findChangeSourceId(`poller:repo-${index}`)))
    const claim = await timeCalls(count, 1, (index) => cs.setChangeSourceMaster(ids[index]!, 1))
    const conflict = await timeCalls(count, 0, async (index) => {
      if (await cs.trySetChangeSourceMaster(ids[index]!, 2)) throw new Error('a conflicting claim succeeded')
    })
    const release = await timeCalls(count, 1, (index) => cs.setChangeSourceMaster(ids[index]!, null))
    const cycle = await timeCalls(count, 2, async (index) => {
      await cs.setChangeSourceMaster(ids[index]!, 3)
      await cs.setChangeSourceMaster(ids[index]!, null)
    })
    return { register, claim, release, cycle, conflict }
  })
}

/**
 * One run, relaxed, in a fresh log: `count` registrations of ordinary names, then `count` of names
 * crafted to share one bucket of the name index (colliding-names.ts), as anyone who chooses names
 * could send them. The second over the first is what crafted names cost.
 */
export async function craftedRegistrations(count: number): Promise<{ plain: OpFigure; crafted: OpFigure }> {
  const crafted = collidingNames(count)
  return withInstance(false, async (cs) => {
    for (let index = 0; index < WARM_CALLS; index++) await cs.findChangeSourceId(`warm-${index}`)
    const plain = await timeCalls(count, 1, (index) => cs.findChangeSourceId(`poller:repo-${index}`))
    const colliding = await timeCalls(count, 1, (index) => cs.findChangeSourceId(crafted[index]!))
    return { plain, crafted: colliding }
  })
}

/**
 * One run: `callers` callers in flight, durable mode, each alternately claiming and releasing its
 * own change source: every call appends one record, and the writer groups what arrives while a
 * batch is syncing.
 */
export async function concurrentWrites(callers: number, callsPerCaller: number): Promise<OpFigure> {
  return withInstance(true, async (cs) => {
    const ids = await Promise.all(Array.from({ length: callers }, (_, index) => cs.findChangeSourceId(`poller:repo-${index}`)))
    // Warm up.
    await Promise.all(ids.map(async (id) => {
      await cs.setChangeSourceMaster(id, 1)
      await cs.setChangeSourceMaster(id, null)
    }))
    await settle()
    const latencies: number[] = []
    const start = nowNs()
    await Promise.all(
      ids.map(async (id) => {
        for (let call = 0; call < callsPerCaller; call++) {
          const t = nowNs()
          await cs.setChangeSourceMaster(id, call % 2 === 0 ? 1 : null)
          latencies.push(usSince(t))
        }
      }),
    )
    const us = usSince(start)
    const calls = callers * callsPerCaller
    return {
      callsPerSecond: (calls / us) * 1e6,
      recordsPerSecond: (calls / us) * 1e6,
      usPerCall: us / calls,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
    }
  })
}

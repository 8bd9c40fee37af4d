/**
 * The raw baselines, measured in the same run and on the same kind of folder as our own figures:
 * what `level` itself does with values of the log's size and keys of the log's form. Each of our
 * figures is printed as a ratio to one of these, because the machine is noisy and only same-run
 * ratios compare.
 */
import { Level } from 'level'
import { nowNs, quantile, rawKey, rawValue, settle, tempFolder, usSince } from './util.js'
import { WARM_CALLS } from './writes.js'

export interface Rate {
  /** Records (or calls) per second. */
  perSecond: number
  /** Microseconds per record. */
  usPerOp: number
  p50?: number
  p99?: number
  runs?: number[]
}

async function withDb<T>(label: string, body: (db: Level<string, string>) => Promise<T>): Promise<T> {
  const folder = await tempFolder(label)
  const db = new Level<string, string>(folder.path)
  await db.open()
  try {
    return await body(db)
  } finally {
    await db.close()
    await folder.cleanup()
  }
}

/** Sequential `put`s, each awaited before the next: the floor of one caller writing one record at a time. One run. */
export async function rawSequentialPut(sync: boolean, count: number): Promise<Rate> {
  return withDb('put', async (db) => {
    const latencies: number[] = []
    // sync:false with no options object at all: the cheapest form `level` offers.
    const put = sync ? (seq: number) => db.put(rawKey(seq), rawValue(seq), { sync: true }) : (seq: number) => db.put(rawKey(seq), rawValue(seq))
    for (let seq = 1; seq <= WARM_CALLS; seq++) await put(seq)
    await settle()
    const start = nowNs()
    for (let seq = WARM_CALLS + 1; seq <= WARM_CALLS + count; seq++) {
      const t = nowNs()
      await put(seq)
      latencies.push(usSince(t))
    }
    const us = usSince(start)
    return { perSecond: (count / us) * 1e6, usPerOp: us / count, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) }
  })
}

/** Chained batches of `size` records (`db.batch().put(…)….write(options)`), one after another. One run. */
export async function rawChainedBatch(size: number, sync: boolean, batches: number): Promise<Rate> {
  return withDb('batch', async (db) => {
    let seq = 0
    const latencies: number[] = []
    const writeOne = async () => {
      const batch = db.batch()
      for (let index = 0; index < size; index++) {
        seq += 1
        batch.put(rawKey(seq), rawValue(seq))
      }
      const t = nowNs()
      await batch.write({ sync })
      latencies.push(usSince(t))
    }
    for (let warm = 0; warm < 5; warm++) await writeOne()
    latencies.length = 0
    await settle()
    const start = nowNs()
    for (let index = 0; index < batches; index++) await writeOne()
    const us = usSince(start)
    const records = size * batches
    return { perSecond: (records / us) * 1e6, usPerOp: us / records, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) }
  })
}

/** Reads a whole log with `iterator().nextv(1000)` and `JSON.parse`s every value: the floor of replay's I/O. */
export async function rawIteratorRead(location: string): Promise<{ records: number; ms: number; perSecond: number }> {
  const db = new Level<string, string>(location)
  await db.open()
  try {
    const start = nowNs()
    const iterator = db.iterator({ gte: 'log!', lt: 'log!~' })
    let records = 0
    let checksum = 0
    while (true) {
      const chunk = await iterator.nextv(1000)
      if (chunk.length === 0) break
      for (const [, value] of chunk) checksum += (JSON.parse(value) as { seq: number }).seq
      records += chunk.length
    }
    await iterator.close()
    const ms = usSince(start) / 1000
    if (checksum === 0 && records > 0) throw new Error('unreachable')
    return { records, ms, perSecond: (records / ms) * 1000 }
  } finally {
    await db.close()
  }
}

/**
 * A mutable `Map` fold of `count` registrations and claims: the floor of the projection's cost per
 * record, with nothing persistent, no index but by id, no checks.
 */
export function mapFold(count: number, runs: number): Rate {
  const results: number[] = []
  for (let run = 0; run < runs; run++) {
    const events = Array.from({ length: count }, (_, index) => ({ id: index + 1, name: `poller:repo-${index + 1}` }))
    const map = new Map<number, { id: number; name: string; masterid: number | null }>()
    const start = nowNs()
    for (const event of events) map.set(event.id, { id: event.id, name: event.name, masterid: null })
    for (let id = 1; id <= count; id += 100) map.set(id, { ...map.get(id)!, masterid: 2 })
    const records = count + Math.ceil(count / 100)
    results.push(usSince(start) / records)
  }
  const sorted = [...results].sort((a, b) => a - b)
  const usPerOp = sorted[sorted.length >> 1]!
  return { usPerOp, perSecond: 1e6 / usPerOp, runs: results.map((us) => 1e6 / us) }
}

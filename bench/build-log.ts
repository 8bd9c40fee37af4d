/**
 * Builds a log of N change sources quickly: the records are stamped with the package's own codec
 * (`stampEvent`, `encodeRecord`: the same JSON, the same hash chain) and appended through its own
 * `LevelLogStore`, in batches of 10,000 without sync, instead of going through the public API one
 * command at a time. What `ChangeSources.open` then replays is exactly what the API would have
 * written, only the timestamps are all one.
 *
 * Layout, for N change sources named `poller:repo-<id>`:
 *   seq 1..N            ChangeSourceRegistered, ids 1..N
 *   then                master 1 claims 10 ids spread over the range (the "10 of N" query)
 *   then                master 2 claims every 100th id (1% of N: the active:true answer)
 */
import { Level } from 'level'
import type { ChangeEvent, ChangeRecord } from '../src/domain/events.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { GENESIS_HASH } from '../src/domain/projection.js'
import { encodeRecord, stampEvent } from '../src/log/record-codec.js'

export interface BuiltLog {
  changeSources: number
  records: number
  /** The 10 ids that master 1 holds. */
  masterOneIds: number[]
}

const logKeyFloor = 'log!'
const logKeyCeiling = 'log!~'

export const MASTER_OF_TEN = 1
export const MASTER_OF_ONE_PERCENT = 2

export function masterOneIds(n: number): number[] {
  // Ids not divisible by 100, so that no id is in both masters' sets.
  return Array.from({ length: 10 }, (_, index) => Math.floor((index * n) / 10) + 1).map((id) => (id % 100 === 0 ? id + 1 : id))
}

export async function buildLog(location: string, n: number): Promise<BuiltLog> {
  const db = new Level<string, string>(location)
  await db.open()
  const store = await LevelLogStore.open(db, { sync: false })
  let seq = 0
  let hash = GENESIS_HASH
  const timestamp = Date.now()
  let pending: ChangeRecord[] = []
  const flush = async () => {
    if (pending.length === 0) return
    await store.append(
      pending.map((record) => ({ seq: record.seq, value: encodeRecord(record) })),
      pending[0]!.seq - 1,
    )
    pending = []
  }
  const add = async (event: ChangeEvent) => {
    const record = stampEvent(event, ++seq, timestamp, hash)
    hash = record.hash
    pending.push(record)
    if (pending.length >= 10_000) await flush()
  }
  for (let id = 1; id <= n; id++) await add({ type: 'ChangeSourceRegistered', changesourceid: id, name: `poller:repo-${id}` })
  const ten = masterOneIds(n)
  for (const id of ten) await add({ type: 'MasterClaimed', changesourceid: id, masterid: MASTER_OF_TEN })
  for (let id = 100; id <= n; id += 100) await add({ type: 'MasterClaimed', changesourceid: id, masterid: MASTER_OF_ONE_PERCENT })
  await flush()
  // Settle LevelDB before anything is measured on this log: without it, the compactions that a
  // bulk load leaves pending run during the first measurements, and only at the large sizes.
  await (db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange(logKeyFloor, logKeyCeiling)
  await store.close()
  await db.close()
  return { changeSources: n, records: seq, masterOneIds: ten }
}

/**
 * Reading the log as records: decoded, checked link by link, pulled chunk by chunk from the store,
 * so that memory stays bounded however long the range.
 */
import { ChangeSourcesError, ReadFailedError } from '../errors.js'
import type { ChangeRecord } from '../domain/events.js'
import type { LogStore, StoredEntry } from '../stores/log-store.js'
import { GENESIS_HASH } from '../domain/projection.js'
import { decodeRecord } from './record-codec.js'
import { missingRecord } from './log-damage.js'

interface CheckedEntry {
  readonly entry: StoredEntry
  readonly record: ChangeRecord
}

/**
 * The stored entries from `from` to `to` (both inclusive), a store chunk at a time, each checked to
 * be the next seq, to decode, and to chain to the one before (the first to the stored hash of
 * seq `from - 1`: verify() checks the whole chain). A problem is a CorruptLogError naming the seq;
 * a store failure a ReadFailedError.
 */
export async function* readCheckedChunks(store: LogStore, range: { from: number; to: number }): AsyncIterable<CheckedEntry[]> {
  const { from, to } = range
  if (from > to) return
  let previousHash = GENESIS_HASH
  let expected = from
  try {
    if (from > 1) {
      for await (const [before] of store.read({ from: from - 1, to: from - 1 })) {
        previousHash = (JSON.parse(before!.value) as { hash: string }).hash
      }
    }
    for await (const chunk of store.read({ from, to })) {
      yield chunk.map((entry) => {
        if (entry.seq !== expected) throw missingRecord(expected, entry.seq)
        const record = decodeRecord(entry.seq, entry.value, previousHash)
        previousHash = record.hash
        expected += 1
        return { entry, record }
      })
    }
  } catch (error) {
    throw error instanceof ChangeSourcesError ? error : new ReadFailedError({ cause: error })
  }
  if (expected <= to) throw missingRecord(expected, undefined)
}

/** The records from `from` to `to` (both inclusive), in seq order, a chunk at a time. */
export async function* readRecordChunks(store: LogStore, range: { from: number; to: number }): AsyncIterable<ChangeRecord[]> {
  for await (const chunk of readCheckedChunks(store, range)) yield chunk.map(({ record }) => record)
}

/** The records from `from` to `to` (both inclusive), in seq order. */
export async function* readRecords(store: LogStore, range: { from: number; to: number }): AsyncIterable<ChangeRecord> {
  for await (const chunk of readCheckedChunks(store, range)) for (const { record } of chunk) yield record
}

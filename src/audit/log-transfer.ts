/**
 * Export and import: the log as JSON Lines, one stored record per line, exactly as stored (so the
 * hashes still hold), for backup, restore and moving a log between stores.
 */
import { checkedRecord } from '../log/record-codec.js'
import { ChangeSourcesError, CorruptLogError, InvalidArgumentError, WriteFailedError, AppendConflictError } from '../errors.js'
import type { ChangeRecord } from '../domain/events.js'
import { applyRecord } from '../domain/evolve.js'
import type { LogStore, StoredEntry } from '../stores/log-store.js'
import { initialState } from '../domain/projection.js'
import { readCheckedChunks } from '../log/log-reader.js'
import { encodeSnapshot } from '../snapshots/snapshot.js'

/** The stored records from `from` to `to`, each checked on the way, as lines (without newlines). */
export async function* exportLines(store: LogStore, range: { from: number; to: number }): AsyncIterable<string> {
  for await (const chunk of readCheckedChunks(store, range)) for (const { entry } of chunk) yield entry.value
}

const IMPORT_BATCH = 1000

/**
 * Appends `lines` (JSON Lines from `exportLines`, starting at seq 1) to an empty store, checking
 * each record as open would (seq, shape, chain, rules) before it is written; a bad line stops the
 * import with a CorruptLogError naming its seq, after the whole batches before it. After the last
 * batch a full snapshot is written, so the first open folds nothing. Returns the number of records.
 */
export async function importLines(
  store: LogStore,
  lines: AsyncIterable<string>,
  onProgress?: (seq: number) => void,
): Promise<number> {
  const head = await store.head()
  if (head !== 0) throw new InvalidArgumentError('location', 'an empty log to import into', `a log of ${head} records`)
  const state = initialState()
  let batch: StoredEntry[] = []
  const flush = async (last: boolean): Promise<void> => {
    if (batch.length === 0) return
    try {
      const outcome = await store.append(batch, batch[0]!.seq - 1)
      if (!outcome.appended) throw new AppendConflictError(batch[0]!.seq - 1, outcome.head)
    } catch (error) {
      throw error instanceof ChangeSourcesError ? error : new WriteFailedError({ cause: error })
    }
    if (last) {
      // The log is whole by now; a snapshot that cannot be written only makes the first open fold it all.
      await encodeSnapshot(state, lastRecord!.timestamp, undefined, new Set())
        .then(({ parts }) => store.writeSnapshot(parts))
        .catch(() => {})
    }
    batch = []
    onProgress?.(state.seq)
  }
  let lastRecord: ChangeRecord | undefined
  for await (const raw of lines) {
    const line = raw.trim()
    if (line === '') continue
    const seq = state.seq + 1
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch (error) {
      throw new CorruptLogError(seq, 'the line is not valid JSON', { cause: error })
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CorruptLogError(seq, `the line is JSON ${jsonKind(parsed)}, a value that is not a record object`)
    }
    const recordSeq = (parsed as { seq?: unknown }).seq
    const record = checkedRecord(state, { seq: typeof recordSeq === 'number' ? recordSeq : seq, value: line })
    applyRecord(state, record)
    lastRecord = record
    batch.push({ seq, value: line })
    if (batch.length >= IMPORT_BATCH) await flush(false)
  }
  await flush(true)
  return state.seq
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

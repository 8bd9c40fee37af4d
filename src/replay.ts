/**
 * Replay: folding stored entries back into a state, checking each on the way, so that a log that
 * does not read back stops open with a typed error instead of building a wrong state.
 */
import { CorruptLogError } from './errors.js'
import type { ChangeRecord } from './events.js'
import { applyRecord } from './evolve.js'
import { freezeFresh } from './id-trie.js'
import type { StoredEntry } from './log-store.js'
import { initialState, type ChangeSourcesState } from './projection.js'
import { decodeRecord, recordProblem } from './record-codec.js'

/**
 * Folds `entries` into `state` in place. The state must not be shared yet: replay runs the same
 * recipe as the write path, but on a private mutable state rather than a draft, because one
 * `produce` per record would cost a copy of every node on the record's path.
 */
export async function foldEntries(
  state: ChangeSourcesState,
  chunks: AsyncIterable<readonly StoredEntry[]>,
  onRecord?: (record: ChangeRecord) => void,
): Promise<ChangeSourcesState> {
  for await (const chunk of chunks) {
    for (const entry of chunk) {
      const record = checkedRecord(state, entry)
      applyRecord(state, record)
      onRecord?.(record)
    }
  }
  return state
}

/** Decodes the entry that should follow `state`, or throws a CorruptLogError naming its seq. */
export function checkedRecord(state: ChangeSourcesState, entry: StoredEntry): ChangeRecord {
  const expected = state.seq + 1
  if (entry.seq !== expected) {
    throw new CorruptLogError(expected, `the record is missing (the next stored record is seq ${entry.seq})`)
  }
  const record = decodeRecord(entry.seq, entry.value, state.hash)
  const problem = recordProblem(state, record)
  if (problem !== undefined) throw new CorruptLogError(entry.seq, `the record ${problem}`)
  return record
}

/** The frozen state after every entry of the log. */
export async function replay(chunks: AsyncIterable<readonly StoredEntry[]>): Promise<ChangeSourcesState> {
  return freezeFresh(await foldEntries(initialState(), chunks))
}

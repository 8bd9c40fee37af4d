/**
 * Tamper evidence: walks the whole log and reports the first record that is missing, undecodable,
 * out of order, breaks the hash chain or breaks the rules; or, for a whole log, its length and the
 * hash at its head. It reports, never throws for a damaged log: it is what one runs on a log that
 * cannot be opened.
 */
import { checkedRecord } from '../log/record-codec.js'
import { problemOf } from '../log/log-damage.js'
import { ErrorCode, ReadFailedError, isChangeSourcesError } from '../errors.js'
import { applyRecord } from '../domain/evolve.js'
import type { LogStore } from '../stores/log-store.js'
import { initialState } from '../domain/projection.js'

export type VerifyReport =
  | {
      readonly ok: true
      /** The number of records, which is the seq of the last one. */
      readonly length: number
      /** The last record's hash (GENESIS_HASH for an empty log): keep it to check later that nothing before it changed. */
      readonly headHash: string
    }
  | {
      readonly ok: false
      /** The first bad seq. */
      readonly seq: number
      /** What is wrong with it, without its seq (which `seq` gives). */
      readonly problem: string
      /** The code of the error reading it would raise: CHANGESOURCES_CORRUPT_LOG, _UNKNOWN_SCHEMA_VERSION or _READ_FAILED. */
      readonly code: ErrorCode
      /** The records before it, which are whole. */
      readonly length: number
      /** The hash of the last whole record. */
      readonly headHash: string
    }

export async function verifyLog(store: LogStore, onProgress?: (seq: number, head: number) => void): Promise<VerifyReport> {
  const state = initialState()
  let head = 0
  try {
    head = await store.head()
    for await (const chunk of store.read({ from: 1, to: head })) {
      for (const entry of chunk) applyRecord(state, checkedRecord(state, entry))
      onProgress?.(state.seq, head)
    }
  } catch (error) {
    // The database closed under the walk says nothing about the log: no report, whole or damaged.
    if (closedUnderneath(error)) throw new ReadFailedError({ cause: error })
    const seq = (error as { seq?: unknown }).seq
    return {
      ok: false,
      seq: typeof seq === 'number' ? seq : state.seq + 1,
      problem: problemOf(error),
      code: isChangeSourcesError(error) ? error.code : ErrorCode.readFailed,
      length: state.seq,
      headHash: state.hash,
    }
  }
  return { ok: true, length: state.seq, headHash: state.hash }
}


/** Whether a store error is abstract-level's for a database or iterator closed while in use. */
function closedUnderneath(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'LEVEL_ITERATOR_NOT_OPEN' || code === 'LEVEL_DATABASE_NOT_OPEN'
}

/**
 * The checks every store makes of an append before it touches its log, so that a caller's mistake
 * is a typed error and never a gap or a hole in the log.
 */
import { InvalidArgumentError } from '../errors.js'
import type { LogStore, StoredEntry } from './log-store.js'

export function checkAppend(entries: readonly StoredEntry[], expectedHead: number): void {
  if (!Number.isSafeInteger(expectedHead) || expectedHead < 0) {
    throw new InvalidArgumentError('expectedHead', 'a non-negative safe integer', expectedHead)
  }
  if (!Array.isArray(entries)) throw new InvalidArgumentError('entries', 'an array of entries', entries)
  entries.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null || entry.seq !== expectedHead + 1 + index) {
      throw new InvalidArgumentError(`entries[${index}].seq`, `seq ${expectedHead + 1 + index} (the seqs follow the expected head without a gap)`, entry?.seq)
    }
    if (typeof entry.value !== 'string') throw new InvalidArgumentError(`entries[${index}].value`, 'a string', entry.value)
  })
}

const METHODS = ['head', 'read', 'append', 'writeSnapshot', 'readSnapshot', 'close'] as const

/** `value` as a store, or an InvalidArgumentError naming what it lacks. */
export function checkStore(value: unknown, argument: string): LogStore {
  let problem: string | undefined
  try {
    if (typeof value !== 'object' || value === null) problem = 'not an object'
    else {
      const candidate = value as Record<string, unknown>
      const missing = METHODS.filter((name) => typeof candidate[name] !== 'function')
      if (missing.length > 0) problem = `no ${missing.join(', ')} method`
      else if (candidate.writers !== 'single' && candidate.writers !== 'many') problem = "no writers: 'single' or 'many'"
      else if (candidate.writers === 'many' && typeof candidate.onAppended !== 'function') problem = 'writers: many, but no onAppended method'
    }
  } catch (error) {
    throw new InvalidArgumentError(argument, 'a log store (see docs/stores.md)', value, { cause: error })
  }
  if (problem !== undefined) throw new InvalidArgumentError(argument, `a log store (see docs/stores.md): ${problem}`, value)
  return value as LogStore
}

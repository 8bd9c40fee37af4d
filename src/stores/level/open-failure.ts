/**
 * Why a database could not be opened, in words: LevelDB's "Database failed to open" hides the
 * reason in its `cause` (and a file-system error only has a code), so the message says it instead.
 */
import type { AnyLevel } from './level-log-store.js'
import { ChangeSourcesError, LocationLockedError, OpenFailedError } from '../../errors.js'

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'it (or a folder on its path) is not a folder',
  ELOOP: 'its path is a symlink loop (too many levels of symbolic links)',
  ENOENT: 'it does not exist',
  EROFS: 'it is on a read-only file system',
  ENOSPC: 'no space left on the device',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'its path is too long',
}

// LevelDB's generic wrappers, which say that it failed but not why.
const GENERIC = /^(Database failed to open|Database is not open)\.?$/

/** "<location> could not be opened: <the reason>", the reason taken from `error` or its causes. */
export function describeOpenFailure(location: string, error: unknown): string {
  return `${location} could not be opened: ${openFailureReason(error)}`
}

function openFailureReason(error: unknown): string {
  const messages: string[] = []
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && code in REASONS) return `${REASONS[code]} (${code})`
    const message = current instanceof Error ? current.message : typeof current === 'string' ? current : undefined
    if (message !== undefined && message !== '' && !GENERIC.test(message)) messages.push(message)
    current = (current as { cause?: unknown }).cause
  }
  // The innermost message is the closest to the cause (LevelDB's "IO error: …", "Corruption: …").
  return messages.at(-1) ?? (error instanceof Error ? error.message : String(error))
}

/** Whether `value` is an abstract-level database (a Proxy or an object whose getters throw is not). */
export function isAbstractLevel(value: unknown): value is AnyLevel {
  const candidate = value as Partial<AnyLevel> | null
  // A Proxy or an object whose getters throw is not a database, and must be refused as such.
  try {
    return looksLikeAbstractLevel(candidate)
  } catch {
    return false
  }
}

function looksLikeAbstractLevel(candidate: Partial<AnyLevel> | null): boolean {
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.open === 'function' &&
    typeof candidate.batch === 'function' &&
    typeof candidate.iterator === 'function' &&
    typeof candidate.keyEncoding === 'function'
  )
}

/** The typed error for a database that would not open: LEVEL_LOCKED is a lock held elsewhere, whatever the database was given as. */
export function openError(location: string | undefined, error: unknown): ChangeSourcesError {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause
  if (cause?.code === 'LEVEL_LOCKED') {
    // LevelDB says "held by process" for its own process too: which one, only its message tells.
    const heldHere = /already held by process/.test(String((cause as { message?: unknown }).message ?? ''))
    return new LocationLockedError(location ?? 'the database given as options.db', heldHere ? 'this-process' : 'another-process', { cause: error })
  }
  return new OpenFailedError(describeOpenFailure(location ?? 'the database given as options.db', error), { cause: error })
}

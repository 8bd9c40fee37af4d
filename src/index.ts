/**
 * changesources: which change sources exist and which master runs each, kept as an event log.
 * This file is the whole public surface; everything else in src/ is internal.
 */

/**
 * The connector. `ChangeSources.open` replays the log and resolves once the projection is ready;
 * every method then answers from the projection or appends to the log, and a promise that resolves
 * means the change is in the log (fsynced unless `sync: false`) and already in `changes$`.
 */
export { ChangeSources, type OpenOptions } from './change-sources.js'

/** A change source as the queries return it: a frozen plain object `{ id, name, masterid }`. */
export type { ChangeSource, ChangeSourcesFilter } from './projection.js'

/** A record of the log: flat and frozen; `seq` is contiguous from 1 and never reused. */
export type { ChangeRecord, ChangeEvent, ChangeEventType, ReleaseReason, RecordStamp } from './events.js'

/** The schema version this code writes; records of a higher version stop open with UnknownSchemaVersionError. */
export { SCHEMA_VERSION } from './events.js'

/**
 * The errors. Each has a stable `code` (listed in `ErrorCode` and docs/errors.md); codes do not
 * change between versions, messages may. `isChangeSourcesError` also recognises errors from
 * another copy of this package.
 */
export {
  ErrorCode,
  ChangeSourcesError,
  ChangeSourceAlreadyClaimedError,
  UnknownChangeSourceError,
  InvalidArgumentError,
  ClosedError,
  LocationLockedError,
  OpenFailedError,
  CorruptLogError,
  UnknownSchemaVersionError,
  WriteFailedError,
  ReadFailedError,
  AppendConflictError,
  isChangeSourcesError,
} from './errors.js'

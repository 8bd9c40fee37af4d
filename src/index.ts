/**
 * changesources: which change sources exist and which master runs each, kept as an event log.
 * This file is the whole public surface; everything else in src/ is internal.
 */

/**
 * The connector. `ChangeSources.open` replays the log and resolves once the projection is ready;
 * every method then answers from the projection or appends to the log, and a promise that resolves
 * means the change is in the log (fsynced unless `sync: false`) and already in `changes$`.
 */
export { ChangeSources, type OpenOptions } from './engine/change-sources.js'

/**
 * The audit reader: opens a log for reading only (no replay, so a damaged log opens too; never
 * creates a database; `copy: true` audits a copy of a location a running master holds locked),
 * and answers read, at, history, verify and export as ChangeSources does, plus import.
 */
export { AuditLog, type AuditOpenOptions } from './audit/audit-log.js'

// The store contract, for stores of a third party's (docs/stores.md), and the shared memory store.
export type { LogStore, StoredEntry, SnapshotPart, StoredSnapshotPart, AppendOutcome } from './stores/log-store.js'
export { SharedMemoryStore } from './stores/memory/shared-memory-store.js'
export type { PostgresOptions } from './stores/postgres/postgres-log-store.js'

/** The range of `read()` and `export()`: seqs `from` (default 1) to `to` (default the head), both inclusive. */
export type { ReadRange } from './audit/audit-queries.js'

/** A read-only view of the state after a seq or at a time, as `at()` returns it. */
export type { PointInTime, PointInTimeTarget } from './audit/point-in-time.js'

/** What `history()` asks and answers: the matching records and the claims as intervals. */
export type { History, HistoryQuery, ClaimInterval, ClaimMark } from './audit/history.js'

/** What `verify()` reports: the length and head hash of a whole log, or its first bad seq. */
export type { VerifyReport } from './audit/verify.js'

/** The hash the first record chains to: 64 zeros. */
export { GENESIS_HASH } from './domain/projection.js'

/** A claim as claimChangeSource, getClaim, renewLeases and claims$ give it: master, fencing token, since, lease and deadline. */
export type { Claim } from './domain/leases.js'

/** A change source as the queries return it: a frozen plain object `{ id, name, masterid }`. */
export type { ChangeSource, ChangeSourcesFilter } from './domain/projection.js'

/** A record of the log: flat and frozen; `seq` is contiguous from 1 and never reused. */
export type { ChangeRecord, ChangeSourceRecord, ChangeEvent, ChangeEventType, ReleaseReason, RecordStamp } from './domain/events.js'

/**
 * The newest schema version this code writes (2: the lease records; the others are still written
 * at 1); records of a higher version stop open with UnknownSchemaVersionError.
 */
export { SCHEMA_VERSION } from './domain/events.js'

/**
 * The errors. Each has a stable `code` (listed in `ErrorCode` and docs/errors.md); codes do not
 * change between versions, messages may. `isChangeSourcesError` also recognises errors from
 * another copy of this package.
 */
export {
  ErrorCode,
  ChangeSourcesError,
  ChangeSourceAlreadyClaimedError,
  ClaimLostError,
  UnknownChangeSourceError,
  InvalidArgumentError,
  ClosedError,
  LocationLockedError,
  OpenFailedError,
  CorruptLogError,
  UnknownSchemaVersionError,
  WriteFailedError,
  WriteRefusedError,
  WriteOutcomeUnknownError,
  ReadFailedError,
  AppendConflictError,
  LocationNotFoundError,
  isChangeSourcesError,
} from './errors.js'

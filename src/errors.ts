/**
 * Every error this package raises is a `ChangeSourcesError` with a stable string `code`.
 * Codes are a contract (see docs/errors.md); messages are for people and may change.
 */

/** The codes, one per error class. */
export const ErrorCode = {
  alreadyClaimed: 'CHANGESOURCES_ALREADY_CLAIMED',
  unknownChangeSource: 'CHANGESOURCES_UNKNOWN_CHANGE_SOURCE',
  invalidArgument: 'CHANGESOURCES_INVALID_ARGUMENT',
  closed: 'CHANGESOURCES_CLOSED',
  locked: 'CHANGESOURCES_LOCKED',
  openFailed: 'CHANGESOURCES_OPEN_FAILED',
  corruptLog: 'CHANGESOURCES_CORRUPT_LOG',
  unknownSchemaVersion: 'CHANGESOURCES_UNKNOWN_SCHEMA_VERSION',
  writeFailed: 'CHANGESOURCES_WRITE_FAILED',
  readFailed: 'CHANGESOURCES_READ_FAILED',
  appendConflict: 'CHANGESOURCES_APPEND_CONFLICT',
  notFound: 'CHANGESOURCES_NOT_FOUND',
  writeRefused: 'CHANGESOURCES_WRITE_REFUSED',
  writeOutcomeUnknown: 'CHANGESOURCES_WRITE_OUTCOME_UNKNOWN',
  claimLost: 'CHANGESOURCES_CLAIM_LOST',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export class ChangeSourcesError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  // The name follows the subclass so that stack traces and `String(error)` say which error it is.
  override get name(): string {
    return this.constructor.name
  }
}

/** `setChangeSourceMaster` asked for a change source that another master holds. */
export class ChangeSourceAlreadyClaimedError extends ChangeSourcesError {
  constructor(
    readonly changesourceid: number,
    readonly changesourceName: string,
    readonly holderMasterid: number,
    readonly requestedMasterid: number,
  ) {
    super(
      ErrorCode.alreadyClaimed,
      `change source ${changesourceid} (${JSON.stringify(changesourceName)}) is already claimed by master ${holderMasterid}; ` +
        `master ${requestedMasterid} cannot claim it`,
    )
  }
}

/**
 * An owner-checked release or a renewal named a claim (by its token) that is no longer live: its
 * lease ran out, or it was released, taken over or ended by a deactivation. Nothing was changed.
 */
export class ClaimLostError extends ChangeSourcesError {
  constructor(
    readonly changesourceid: number,
    /** The token the caller gave. */
    readonly token: number,
    /** Why the claim is not live: its lease ran out (it is still in the log until the sweep records the expiry), or the current claim is another one or none. */
    readonly reason: 'lease-lapsed' | 'not-held',
    /** The current claim of the change source, or null when none. */
    readonly current: { readonly masterid: number; readonly token: number } | null,
  ) {
    super(
      ErrorCode.claimLost,
      `the claim of change source ${changesourceid} with token ${token} is lost: ` +
        (reason === 'lease-lapsed'
          ? 'its lease has run out'
          : current === null
            ? 'the change source is not claimed now'
            : `master ${current.masterid} holds it now, with token ${current.token}`),
    )
  }
}

/** A claim or release named a change source id that was never registered. */
export class UnknownChangeSourceError extends ChangeSourcesError {
  constructor(readonly changesourceid: number) {
    super(ErrorCode.unknownChangeSource, `there is no change source with id ${changesourceid}`)
  }
}

/** An argument had the wrong type or value; `argument` names it. */
export class InvalidArgumentError extends ChangeSourcesError {
  constructor(
    readonly argument: string,
    expectation: string,
    received: unknown,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.invalidArgument, `${argument} must be ${expectation}; received ${describe(received)}`, options)
  }
}

/** The component was used after `close()` began. */
export class ClosedError extends ChangeSourcesError {
  constructor(operation: string) {
    super(ErrorCode.closed, `cannot ${operation}: the change sources component is closed`)
  }
}

/** The location is already open, in this process or in another one. */
export class LocationLockedError extends ChangeSourcesError {
  constructor(
    readonly location: string,
    readonly heldBy: 'this-process' | 'another-process',
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.locked,
      heldBy === 'this-process'
        ? `${location} is already open in this process; close it before opening it again`
        : `${location} is locked by another process (LevelDB allows one process per database)`,
      options,
    )
  }
}

/** The database could not be opened, or the log could not be read while opening, for a reason other than a lock. */
export class OpenFailedError extends ChangeSourcesError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.openFailed, message, options)
  }
}

/** A stored record does not read back as the record that was written; `seq` names it where it is known. */
export class CorruptLogError extends ChangeSourcesError {
  constructor(
    readonly seq: number | undefined,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.corruptLog, seq === undefined ? `the log is damaged: ${problem}` : `the log is damaged at seq ${seq}: ${problem}`, options)
  }
}

/** A stored record carries a schema version this code does not know (written by a newer version of this package). */
export class UnknownSchemaVersionError extends ChangeSourcesError {
  constructor(
    readonly seq: number,
    readonly version: unknown,
  ) {
    super(
      ErrorCode.unknownSchemaVersion,
      `the record at seq ${seq} has schema version ${describe(version)}, which this version of changesources cannot read`,
    )
  }
}

/** Appending a batch to the log failed; none of the commands in the batch took effect. `cause` is the store's error. */
export class WriteFailedError extends ChangeSourcesError {
  constructor(options: { cause: unknown }) {
    super(ErrorCode.writeFailed, `appending to the log failed, nothing was written: ${messageOf(options.cause)}`, options)
  }
}

/**
 * A write to a durable database given as `db` failed earlier, and LevelDB may skip on recovery
 * whatever is written after such a failure: every write is refused until the component is closed
 * and the database reopened. `cause` is the failed write's error.
 */
export class WriteRefusedError extends ChangeSourcesError {
  constructor(options: { cause: unknown }) {
    super(
      ErrorCode.writeRefused,
      `writes are refused since a write to the database failed (${messageOf(options.cause)}): LevelDB could drop whatever is written after ` +
        'such a failure when it recovers; close the component, close and reopen the database, and open the component again',
      options,
    )
  }
}

/**
 * The connection to a database server was lost while a batch was being committed, and the server
 * could not be asked since: the batch may or may not be in the log. The component finds out before
 * its next write, and folds the batch in like another writer's if it was stored. `cause` is the
 * connection's error.
 */
export class WriteOutcomeUnknownError extends ChangeSourcesError {
  constructor(options: { cause: unknown }) {
    super(
      ErrorCode.writeOutcomeUnknown,
      `the connection to the database was lost while a batch was committed (${messageOf(options.cause)}): it may or may not be in the log; ` +
        'the component finds out before its next write',
      options,
    )
  }
}

/** Reading the log failed. `cause` is the store's error. */
export class ReadFailedError extends ChangeSourcesError {
  constructor(options: { cause: unknown }) {
    super(ErrorCode.readFailed, `reading the log failed: ${messageOf(options.cause)}`, options)
  }
}

/** The log's head was not where the writer expected it: another writer appended first. */
export class AppendConflictError extends ChangeSourcesError {
  constructor(
    readonly expectedHead: number,
    readonly actualHead: number,
  ) {
    super(ErrorCode.appendConflict, `expected the log to end at seq ${expectedHead}, but it ends at seq ${actualHead}`)
  }
}

/** An audit (AuditLog.open) named a location that holds no database; none is created there. */
export class LocationNotFoundError extends ChangeSourcesError {
  constructor(
    readonly location: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.notFound, `there is no changesources database at ${location}`, options)
  }
}

/** True when `error` is one of ours (and has `code`, when given); works across duplicate installs of this package. */
export function isChangeSourcesError(error: unknown, code?: ErrorCode): error is ChangeSourcesError {
  if (typeof error !== 'object' || error === null) return false
  const errorCode = (error as { code?: unknown }).code
  if (typeof errorCode !== 'string' || !errorCode.startsWith('CHANGESOURCES_')) return false
  return code === undefined || errorCode === code
}

/** What a caught value says: its message when it has one, else the value as a string. */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message
  return typeof message === 'string' ? message : String(error)
}

// Describes a rejected value without ever throwing: the value may be a revoked proxy, a symbol,
// or an object whose toString throws.
export function describe(value: unknown): string {
  try {
    switch (typeof value) {
      case 'string':
        return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value)
      case 'number':
        return Object.is(value, -0) ? '-0' : String(value)
      case 'bigint':
        return `${value}n`
      case 'symbol':
        return 'a symbol'
      case 'function':
        return 'a function'
      case 'undefined':
        return 'undefined'
      case 'boolean':
        return String(value)
      default:
        if (value === null) return 'null'
        if (Array.isArray(value)) return 'an array'
        return 'an object'
    }
  } catch {
    return 'an unprintable value'
  }
}

/** The facts the log holds. Event types and field names are part of the log format (docs/log-format.md). */

/** The newest record version this code writes and reads: 2, the version of the lease records. */
export const SCHEMA_VERSION = 2

/**
 * The version of the shapes of the first release (registrations, lease-less claims, releases for
 * another reason than an expiry). Those records are still written at version 1, unchanged, so that
 * a log that uses no leases stays readable by a release that knows no leases.
 */
export const BASE_SCHEMA_VERSION = 1

export type ReleaseReason = 'released' | 'master-deactivated' | 'lease-expired'

export interface ChangeSourceRegistered {
  readonly type: 'ChangeSourceRegistered'
  readonly changesourceid: number
  readonly name: string
}

/** A claim; its fencing token is the record's seq. */
export interface MasterClaimed {
  readonly type: 'MasterClaimed'
  readonly changesourceid: number
  readonly masterid: number
  /** Present for a claim with a lease (version 2): how long it lasts after the claim or the master's last renewal. */
  readonly leaseMs?: number
}

export interface MasterReleased {
  readonly type: 'MasterReleased'
  readonly changesourceid: number
  readonly masterid: number
  readonly reason: ReleaseReason
  /** Present exactly when `reason` is 'lease-expired' (version 2): the deadline that passed, in ms since the epoch. */
  readonly expiredAt?: number
}

/** A master renewed all its leases (version 2): each now lasts its length from this record's timestamp. */
export interface LeasesRenewed {
  readonly type: 'LeasesRenewed'
  readonly masterid: number
}

/** What `decide` produces: a fact without its place in the log. */
export type ChangeEvent = ChangeSourceRegistered | MasterClaimed | MasterReleased | LeasesRenewed

export type ChangeEventType = ChangeEvent['type']

/** Where an event stands in the log, and when it was appended. */
export interface RecordStamp {
  /** 1, 2, 3, … without gaps: the record's position in the log. */
  readonly seq: number
  /** Milliseconds since the epoch, from the writer's clock at the time of the append. */
  readonly timestamp: number
  /** The schema version of the record's shape: 2 for the lease shapes, 1 for the others (BASE_SCHEMA_VERSION). */
  readonly version: number
  /** SHA-256 (hex) over the previous record's hash and this record's canonical encoding. */
  readonly hash: string
}

/** One record of the log as it is stored, published and replayed: a flat, frozen object. */
export type ChangeRecord =
  | (ChangeSourceRegistered & RecordStamp)
  | (MasterClaimed & RecordStamp)
  | (MasterReleased & RecordStamp)
  | (LeasesRenewed & RecordStamp)

/** The records about one change source: every type but LeasesRenewed, which is about a master. */
export type ChangeSourceRecord = Exclude<ChangeRecord, LeasesRenewed & RecordStamp>

/** The version a record of this shape is written at: 2 for the lease shapes, 1 for the others. */
export function versionOf(event: ChangeEvent): number {
  switch (event.type) {
    case 'ChangeSourceRegistered':
      return BASE_SCHEMA_VERSION
    case 'MasterClaimed':
      return event.leaseMs === undefined ? BASE_SCHEMA_VERSION : SCHEMA_VERSION
    case 'MasterReleased':
      return event.reason === 'lease-expired' ? SCHEMA_VERSION : BASE_SCHEMA_VERSION
    case 'LeasesRenewed':
      return SCHEMA_VERSION
  }
}

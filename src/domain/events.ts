/** The facts the log holds. Event types and field names are part of the log format (docs/log-format.md). */

export const SCHEMA_VERSION = 1

export type ReleaseReason = 'released' | 'master-deactivated'

export interface ChangeSourceRegistered {
  readonly type: 'ChangeSourceRegistered'
  readonly changesourceid: number
  readonly name: string
}

export interface MasterClaimed {
  readonly type: 'MasterClaimed'
  readonly changesourceid: number
  readonly masterid: number
}

export interface MasterReleased {
  readonly type: 'MasterReleased'
  readonly changesourceid: number
  readonly masterid: number
  readonly reason: ReleaseReason
}

/** What `decide` produces: a fact without its place in the log. */
export type ChangeEvent = ChangeSourceRegistered | MasterClaimed | MasterReleased

export type ChangeEventType = ChangeEvent['type']

/** Where an event stands in the log, and when it was appended. */
export interface RecordStamp {
  /** 1, 2, 3, … without gaps: the record's position in the log. */
  readonly seq: number
  /** Milliseconds since the epoch, from the writer's clock at the time of the append. */
  readonly timestamp: number
  /** The schema version of the record's shape. */
  readonly version: number
  /** SHA-256 (hex) over the previous record's hash and this record's canonical encoding. */
  readonly hash: string
}

/** One record of the log as it is stored, published and replayed: a flat, frozen object. */
export type ChangeRecord =
  | (ChangeSourceRegistered & RecordStamp)
  | (MasterClaimed & RecordStamp)
  | (MasterReleased & RecordStamp)

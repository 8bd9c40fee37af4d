/**
 * History: the records that concern one change source or one master, in seq order, and the claims
 * as intervals (which master held which change source, from when to when, and why it ended).
 */
import type { ChangeRecord, ReleaseReason } from '../domain/events.js'
import { InvalidArgumentError } from '../errors.js'
import { findIdByName, getChangeSource, type ChangeSourcesState } from '../domain/projection.js'
import { checkId, checkName, readOwn } from '../domain/validate.js'

export interface HistoryQuery {
  /** Only this change source (give this or `name`, or neither). */
  readonly changesourceid?: number
  /** Only the change source of this name. */
  readonly name?: string
  /** Only the claims and releases of this master. */
  readonly masterid?: number
  /** Only records from the first one stamped at or after this time on, and claims still held then. */
  readonly since?: Date | number
  /** Only records before the first one stamped after this time (as at({ time })), and claims taken by then. */
  readonly until?: Date | number
  /**
   * The last seq read (default: the head; a later one means the head): the log is cut there as
   * at({ seq }) cuts it, claims held then stay open, and names are as of it. A log damaged at
   * seq N can be asked up to N - 1.
   */
  readonly toSeq?: number
}

/** One end of a claim interval: the record that began or ended it. */
export interface ClaimMark {
  readonly seq: number
  /** Milliseconds since the epoch. */
  readonly timestamp: number
}

/** A master's hold on a change source: from its MasterClaimed record to its MasterReleased record. */
export interface ClaimInterval {
  readonly changesourceid: number
  readonly name: string
  readonly masterid: number
  /** The claim's fencing token: the seq of its MasterClaimed record (from.seq). */
  readonly token: number
  /** The lease's length, or null for a claim without a lease. */
  readonly leaseMs: number | null
  readonly from: ClaimMark
  /**
   * The release, with why it happened; null while the claim is still held (an open interval). For
   * a lease that expired, `expiredAt` is when it ran out, which is when the claim ended: the record
   * (seq, timestamp) that says so comes at or after it.
   */
  readonly to: (ClaimMark & { readonly reason: ReleaseReason; readonly expiredAt?: number }) | null
}

export interface History {
  /** The matching records, in seq order. */
  readonly records: readonly ChangeRecord[]
  /** The matching claims, in the order they began. */
  readonly claims: readonly ClaimInterval[]
}

interface CheckedQuery {
  changesourceid: number | undefined
  masterid: number | undefined
  since: number
  until: number
}

/** The last seq the query reads: its `toSeq`, at most `head`. */
export function historyEnd(query: unknown, head: number): number {
  if (query === undefined) return head
  if (typeof query !== 'object' || query === null) throw new InvalidArgumentError('query', 'an object or undefined', query)
  const { toSeq } = readOwn(query, 'query', ['toSeq'])
  if (toSeq === undefined) return head
  if (typeof toSeq !== 'number' || !Number.isSafeInteger(toSeq) || toSeq < 0) throw new InvalidArgumentError('query.toSeq', 'a seq: a whole number from 0', toSeq)
  return Math.min(toSeq, head)
}

/** Checks the query and resolves a name to its id with `state` (the state where the query ends): -1 when no such name. */
export function checkHistoryQuery(query: unknown, state: ChangeSourcesState): CheckedQuery {
  if (query === undefined) query = {}
  if (typeof query !== 'object' || query === null) throw new InvalidArgumentError('query', 'an object or undefined', query)
  const { changesourceid, name, masterid, since, until } = readOwn(query, 'query', ['changesourceid', 'name', 'masterid', 'since', 'until'])
  if (changesourceid !== undefined && name !== undefined) {
    throw new InvalidArgumentError('query', 'an object with at most one of changesourceid and name', query)
  }
  const time = (argument: string, value: unknown, otherwise: number): number => {
    if (value === undefined) return otherwise
    const milliseconds = value instanceof Date ? value.getTime() : value
    if (typeof milliseconds !== 'number' || Number.isNaN(milliseconds)) {
      throw new InvalidArgumentError(argument, 'a valid Date or a number of milliseconds', value)
    }
    return milliseconds
  }
  return {
    changesourceid:
      changesourceid !== undefined
        ? checkId('query.changesourceid', changesourceid)
        : name !== undefined
          ? (findIdByName(state, checkName(name)) ?? -1)
          : undefined,
    masterid: masterid === undefined ? undefined : checkId('query.masterid', masterid),
    since: time('query.since', since, -Infinity),
    until: time('query.until', until, Infinity),
  }
}

/** Walks `records` (the whole log, in order) and keeps what `query` asks for; names come from `state`. */
export async function collectHistory(records: AsyncIterable<ChangeRecord>, query: CheckedQuery, state: ChangeSourcesState): Promise<History> {
  const { changesourceid, masterid, since, until } = query
  const matching: ChangeRecord[] = []
  const claims: Array<{ -readonly [K in keyof ClaimInterval]: ClaimInterval[K] }> = []
  // The open claim of each change source, while the walk is inside it.
  const open = new Map<number, (typeof claims)[number]>()
  // The window cuts the log as at({ time }) does: it begins at the first record stamped at or after
  // `since` and ends before the first one stamped after `until`, whatever the records after them say.
  let windowFrom = Infinity
  let late = false
  for await (const record of records) {
    late ||= record.timestamp > until
    // After `until`, only the releases of claims still open matter (they close the intervals).
    if (late && open.size === 0) break
    if (!late && windowFrom === Infinity && record.timestamp >= since) windowFrom = record.seq
    if (record.type === 'LeasesRenewed') {
      // A renewal concerns a master, and a change source whose lease that master holds then.
      if (masterid !== undefined && record.masterid !== masterid) continue
      if (changesourceid !== undefined && !renews(open.get(changesourceid), record.masterid)) continue
      if (!late && record.seq >= windowFrom) matching.push(record)
      continue
    }
    if (changesourceid !== undefined && record.changesourceid !== changesourceid) continue
    if (masterid !== undefined && (record.type === 'ChangeSourceRegistered' || record.masterid !== masterid)) continue
    if (!late && record.seq >= windowFrom) matching.push(record)
    if (record.type === 'MasterClaimed' && !late) {
      const interval = {
        changesourceid: record.changesourceid,
        name: getChangeSource(state, record.changesourceid)?.name ?? '',
        masterid: record.masterid,
        token: record.seq,
        leaseMs: record.leaseMs ?? null,
        from: { seq: record.seq, timestamp: record.timestamp },
        to: null,
      }
      claims.push(interval)
      open.set(record.changesourceid, interval)
    } else if (record.type === 'MasterReleased') {
      const interval = open.get(record.changesourceid)
      if (interval !== undefined) {
        interval.to =
          record.expiredAt === undefined
            ? { seq: record.seq, timestamp: record.timestamp, reason: record.reason }
            : { seq: record.seq, timestamp: record.timestamp, reason: record.reason, expiredAt: record.expiredAt }
        open.delete(record.changesourceid)
      }
    }
  }
  return { records: matching, claims: claims.filter((claim) => claim.to === null || claim.to.seq >= windowFrom) }
}

function renews(interval: ClaimInterval | undefined, masterid: number): boolean {
  return interval !== undefined && interval.leaseMs !== null && interval.masterid === masterid
}

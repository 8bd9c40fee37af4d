/**
 * Asks an audit (AuditLog, or a running ChangeSources) what the claims report needs: the whole log's
 * check (verify), the state at the end of the range (at), the claims and records in it (history);
 * then builds the report (claims-report.ts). A damaged log is reported up to the last record before
 * the damage. Bad arguments are refused before anything is read.
 */
import { InvalidArgumentError } from '../errors.js'
import type { History, HistoryQuery } from '../audit/history.js'
import type { PointInTime, PointInTimeTarget } from '../audit/point-in-time.js'
import type { VerifyReport } from '../audit/verify.js'
import { buildClaimsReport, type ClaimsReport, type ReportMark } from './claims-report.js'

export interface ClaimsReportQuery {
  /** Where the log is, as the report may print it (no password). */
  readonly source: string
  /** Milliseconds since the epoch; the range cuts the log as history() does. */
  readonly since?: number
  readonly until?: number
  /** Change sources by id (a number) or name (a string); undefined or empty: all. */
  readonly changesources?: readonly (number | string)[]
  /** Masters whose claims are drawn; undefined or empty: all. */
  readonly masterids?: readonly number[]
}

/** What the report reads: AuditLog and ChangeSources both have it. */
export interface ReportAudit {
  readonly head: number
  at(target: PointInTimeTarget): Promise<PointInTime>
  history(query?: HistoryQuery): Promise<History>
  verify(): Promise<VerifyReport>
}

export async function collectClaimsReport(audit: ReportAudit, query: ClaimsReportQuery): Promise<ClaimsReport> {
  const { since, until } = query
  for (const [argument, value] of [['since', since], ['until', until]] as const) {
    if (value !== undefined && !Number.isFinite(value)) throw new InvalidArgumentError(argument, 'a finite number of milliseconds', value)
  }
  if (since !== undefined && until !== undefined && since > until) {
    throw new InvalidArgumentError('until', `a time at or after since (${new Date(since).toISOString()})`, new Date(until).toISOString())
  }
  for (const masterid of query.masterids ?? []) {
    if (!Number.isSafeInteger(masterid) || masterid < 1) throw new InvalidArgumentError('master', 'a whole number from 1', masterid)
  }

  const verify = await audit.verify()
  // Up to the damage, when there is some: what came before it is whole, and is what an audit of a
  // damaged log most needs to see.
  const last = verify.ok ? audit.head : Math.min(audit.head, verify.seq - 1)
  const end = until === undefined ? await audit.at({ seq: last }) : await stateAt(audit, until, last, verify)
  const changeSources = await end.getChangeSources()
  const changesourceids = query.changesources?.length
    ? query.changesources.map((wanted) => {
        const found = changeSources.find((changeSource) => (typeof wanted === 'number' ? changeSource.id === wanted : changeSource.name === wanted))
        if (found === undefined) throw new InvalidArgumentError('changesource', `an id or name of a change source registered by the end of the range (${changeSources.length} are)`, wanted)
        return found.id
      })
    : undefined

  const history = await audit.history({ ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }), toSeq: last })
  const registrations = new Map<number, ReportMark>()
  for (const record of history.records) {
    if (record.type === 'ChangeSourceRegistered') registrations.set(record.changesourceid, { seq: record.seq, timestamp: record.timestamp })
  }
  const first = history.records[0]
  return buildClaimsReport({
    source: query.source,
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(changesourceids === undefined ? {} : { changesourceids: [...new Set(changesourceids)] }),
    ...(query.masterids?.length ? { masterids: [...new Set(query.masterids)] } : {}),
    claims: history.claims,
    ...(first === undefined ? {} : { firstRecord: { seq: first.seq, timestamp: first.timestamp } }),
    registrations,
    state: { seq: end.seq, hash: end.hash, timestamp: end.timestamp, changeSources },
    verify,
  })
}

/**
 * The state at `until`. On a damaged log it is found as the state at a seq, so that nothing past
 * the damage is read: history() cuts the log where at({ time: until }) does, and without `since`
 * it keeps every record up to the cut.
 */
async function stateAt(audit: ReportAudit, until: number, last: number, verify: VerifyReport): Promise<PointInTime> {
  if (verify.ok) return audit.at({ time: until })
  const cut = await audit.history({ until, toSeq: last })
  return audit.at({ seq: cut.records.length })
}

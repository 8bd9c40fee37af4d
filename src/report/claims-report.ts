/**
 * The claims timeline report's data, built without any I/O from what the audit API answers
 * (history, at, verify: see collect-claims-report.ts): one lane per change source, one interval per
 * claim with the mark of why it ended, the gaps where nobody held a change source, the state at the
 * end of the range and the verify line. The HTML page (report-html.ts) and `report --json` show
 * exactly this.
 */
import type { ChangeSource } from '../domain/projection.js'
import type { VerifyReport } from '../audit/verify.js'
import { STILL_HELD, endMarks } from './end-marks.js'

export const REPORT_FORMAT = 'changesources-claims-report/1'

/** A seq and its record's timestamp (milliseconds since the epoch). */
export interface ReportMark {
  readonly seq: number
  readonly timestamp: number
}

/**
 * A claim interval as history() gives it. The reason is any string, and the optional lease fields
 * pass through: a lease-expired end carries `expiredAt`, the deadline that passed, which is
 * earlier than the record that says so.
 */
export interface ReportClaim {
  readonly changesourceid: number
  readonly masterid: number
  readonly from: ReportMark
  readonly to: (ReportMark & { readonly reason: string; readonly expiredAt?: number }) | null
  /** The lease's length; null or absent for a claim without a lease. */
  readonly leaseMs?: number | null
}

export interface ClaimsReportInput {
  /** Where the log is, as it may be printed (no password). */
  readonly source: string
  readonly since?: number
  readonly until?: number
  /** Only these change sources' lanes (ids; undefined: every change source in the range). */
  readonly changesourceids?: readonly number[]
  /** Only these masters' bars (undefined: every master). Gaps are still where nobody held a change source. */
  readonly masterids?: readonly number[]
  /** history({ since, until }).claims: every master's, so that the gaps are right. */
  readonly claims: readonly ReportClaim[]
  /** The seq and timestamp of the first record in the range, and the registrations in it. */
  readonly firstRecord?: ReportMark
  readonly registrations: ReadonlyMap<number, ReportMark>
  /** The state at the end of the range (at({ time: until }) or at the head). */
  readonly state: { readonly seq: number; readonly hash: string; readonly timestamp: number | undefined; readonly changeSources: readonly ChangeSource[] }
  readonly verify: VerifyReport
}

export interface ReportLane {
  readonly changesourceid: number
  readonly name: string
  /** Its ChangeSourceRegistered record when that is in the range; null when it was registered before. */
  readonly registered: ReportMark | null
}

export interface ReportInterval {
  /** Index into `lanes`. */
  readonly lane: number
  readonly changesourceid: number
  readonly masterid: number
  /** The seq of the MasterClaimed record that began the claim. */
  readonly token: number
  readonly from: ReportMark
  readonly to: ReportClaim['to']
  /** Where the bar begins and ends (ms): the end is the lease's deadline when one passed, the range's end while still held. */
  readonly start: number
  readonly end: number
  readonly durationMs: number
  /** Why it ended (the release's reason), or `held`. */
  readonly ending: string
  readonly leaseMs?: number
}

/** A stretch of the range in which nobody held a change source. */
export interface ReportGap {
  readonly lane: number
  readonly changesourceid: number
  readonly start: number
  readonly end: number
  readonly durationMs: number
  /** The token of the claim whose end began the gap (null: the range or the registration began it). */
  readonly afterToken: number | null
  /** The token of the claim that ended it (null: the range ended first). */
  readonly beforeToken: number | null
}

export interface ClaimsReport {
  readonly format: typeof REPORT_FORMAT
  readonly source: string
  /** The range asked for, and where it begins and ends in ms (`from`: since, or the first record; `to`: until, or the last record). */
  readonly range: { readonly since: number | null; readonly until: number | null; readonly from: number; readonly to: number }
  /** Where the timeline is drawn: the range, widened to the claims that began before it or end after it. */
  readonly extent: { readonly from: number; readonly to: number }
  readonly filter: { readonly changesourceids: readonly number[] | null; readonly masterids: readonly number[] | null }
  readonly lanes: readonly ReportLane[]
  readonly masters: readonly number[]
  readonly intervals: readonly ReportInterval[]
  readonly gaps: readonly ReportGap[]
  /** Every ending that occurs, with the mark drawn for it and how many bars end so. */
  readonly endings: readonly { readonly ending: string; readonly mark: string; readonly count: number }[]
  /** The state at the end of the range; `timestamp` is null for an empty log. */
  readonly state: { readonly seq: number; readonly hash: string; readonly timestamp: number | null; readonly changeSources: readonly ChangeSource[] }
  readonly verify: VerifyReport
}

/** The report for `input`; the same input gives the same report. */
export function buildClaimsReport(input: ClaimsReportInput): ClaimsReport {
  const wanted = input.changesourceids === undefined ? undefined : new Set(input.changesourceids)
  const laneSources = input.state.changeSources.filter((changeSource) => wanted === undefined || wanted.has(changeSource.id))
  const lanes: ReportLane[] = laneSources
    .map((changeSource) => ({ changesourceid: changeSource.id, name: changeSource.name, registered: input.registrations.get(changeSource.id) ?? null }))
    .sort((a, b) => a.changesourceid - b.changesourceid)
  const laneOf = new Map(lanes.map((lane, index) => [lane.changesourceid, index]))

  const from = input.since ?? input.firstRecord?.timestamp ?? input.state.timestamp ?? 0
  const to = Math.max(from, input.until ?? input.state.timestamp ?? from)

  const all: ReportInterval[] = []
  for (const claim of input.claims) {
    const lane = laneOf.get(claim.changesourceid)
    if (lane === undefined) continue
    const start = claim.from.timestamp
    const end = claim.to === null ? Math.max(to, start) : (claim.to.expiredAt ?? claim.to.timestamp)
    all.push({
      lane,
      changesourceid: claim.changesourceid,
      masterid: claim.masterid,
      token: claim.from.seq,
      from: claim.from,
      to: claim.to,
      start,
      end,
      durationMs: end - start,
      ending: claim.to?.reason ?? STILL_HELD,
      ...(claim.leaseMs == null ? {} : { leaseMs: claim.leaseMs }),
    })
  }
  all.sort((a, b) => a.lane - b.lane || a.token - b.token)

  const gaps = findGaps(lanes, all, from, to)
  const shownMasters = input.masterids === undefined ? undefined : new Set(input.masterids)
  const intervals = shownMasters === undefined ? all : all.filter((interval) => shownMasters.has(interval.masterid))

  const counts = new Map<string, number>()
  for (const interval of intervals) counts.set(interval.ending, (counts.get(interval.ending) ?? 0) + 1)
  const marks = endMarks(counts.keys())
  const endings = [...counts].map(([ending, count]) => ({ ending, mark: marks.get(ending)!, count })).sort((a, b) => a.ending.localeCompare(b.ending))

  let extentFrom = from
  let extentTo = to
  for (const interval of intervals) {
    extentFrom = Math.min(extentFrom, interval.start)
    extentTo = Math.max(extentTo, interval.end)
  }
  return {
    format: REPORT_FORMAT,
    source: input.source,
    range: { since: input.since ?? null, until: input.until ?? null, from, to },
    extent: { from: extentFrom, to: extentTo },
    filter: { changesourceids: input.changesourceids ?? null, masterids: input.masterids ?? null },
    lanes,
    masters: [...new Set(intervals.map((interval) => interval.masterid))].sort((a, b) => a - b),
    intervals,
    gaps,
    endings,
    state: { ...input.state, timestamp: input.state.timestamp ?? null },
    verify: input.verify,
  }
}

/** Per lane, the parts of [from, to] (after its registration) that no interval covers; `intervals` sorted by lane then start. */
function findGaps(lanes: readonly ReportLane[], intervals: readonly ReportInterval[], from: number, to: number): ReportGap[] {
  const gaps: ReportGap[] = []
  let next = 0
  lanes.forEach((lane, index) => {
    let free = Math.max(from, lane.registered?.timestamp ?? from)
    let afterToken: number | null = null
    const gap = (end: number, beforeToken: number | null): void => {
      if (end > free) gaps.push({ lane: index, changesourceid: lane.changesourceid, start: free, end, durationMs: end - free, afterToken, beforeToken })
    }
    for (; next < intervals.length && intervals[next]!.lane === index; next++) {
      const interval = intervals[next]!
      gap(Math.min(interval.start, to), interval.token)
      if (interval.end >= free) {
        free = interval.end
        afterToken = interval.token
      }
    }
    gap(to, null)
  })
  return gaps
}

/**
 * What the command line prints: tables for people (cli-table3), JSON for scripts, a progress bar
 * on stderr for long work when stderr is a terminal (cli-progress), and durations in words.
 */
import Table from 'cli-table3'
import { Presets, SingleBar } from 'cli-progress'
import type { ChangeSource } from '../domain/projection.js'
import type { ClaimInterval } from '../audit/history.js'
import type { ChangeRecord } from '../domain/events.js'

export function iso(timestamp: number | undefined): string {
  return timestamp === undefined ? '—' : new Date(timestamp).toISOString()
}

/** 3725000 → "1h 2m 5s"; below a second, milliseconds. */
export function duration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.max(0, Math.round(milliseconds))}ms`
  let seconds = Math.floor(milliseconds / 1000)
  const parts: string[] = []
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`)
      seconds %= size
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`)
  return parts.join(' ')
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  // No colours: the output is read in terminals, logs and CI alike.
  const output = new Table({ head, style: { head: [], border: [] } })
  output.push(...rows)
  return output.toString()
}

export function changeSourcesTable(changeSources: readonly ChangeSource[]): string {
  if (changeSources.length === 0) return '(no change sources)'
  return table(
    ['id', 'name', 'held by master'],
    changeSources.map((changeSource) => [changeSource.id, changeSource.name, changeSource.masterid ?? '—']),
  )
}

/** An interval's length; an open one is measured up to `now`, an expired lease up to its deadline. */
export function claimDuration(claim: ClaimInterval, now: number): number {
  return (claim.to?.expiredAt ?? claim.to?.timestamp ?? now) - claim.from.timestamp
}

export function claimsTable(claims: readonly ClaimInterval[], now: number): string {
  if (claims.length === 0) return '(no claims)'
  return table(
    ['change source', 'master', 'token', 'lease', 'from', 'to', 'duration', 'ended by'],
    claims.map((claim) => [
      `${claim.changesourceid} ${claim.name}`,
      claim.masterid,
      claim.token,
      claim.leaseMs === null ? '—' : duration(claim.leaseMs),
      `${iso(claim.from.timestamp)} (seq ${claim.from.seq})`,
      claim.to === null
        ? 'still held'
        : claim.to.expiredAt === undefined
          ? `${iso(claim.to.timestamp)} (seq ${claim.to.seq})`
          : `${iso(claim.to.expiredAt)} (expiry recorded at seq ${claim.to.seq})`,
      duration(claimDuration(claim, now)) + (claim.to === null ? ' so far' : ''),
      claim.to?.reason ?? '—',
    ]),
  )
}

export function recordsTable(records: readonly ChangeRecord[]): string {
  if (records.length === 0) return '(no records)'
  return table(
    ['seq', 'time', 'event', 'change source', 'master', 'detail'],
    records.map((record) => [
      record.seq,
      iso(record.timestamp),
      record.type,
      'changesourceid' in record ? record.changesourceid : '—',
      'masterid' in record ? record.masterid : '—',
      detailOf(record),
    ]),
  )
}

// One row per record as it arrives, so the columns have fixed widths (a table would wait for its last row).
const RECORD_COLUMNS = [
  ['seq', 8],
  ['time', 24],
  ['event', 22],
  ['change source', 24],
  ['master', 8],
  ['detail', 0],
] as const

function row(cells: ReadonlyArray<string | number>): string {
  return cells.map((cell, index) => String(cell).padEnd(RECORD_COLUMNS[index]![1])).join('  ').trimEnd()
}

/** The header of the record rows that `watch` prints. */
export function recordRowsHeader(): string {
  return row(RECORD_COLUMNS.map(([name]) => name))
}

/** One record as a row under recordRowsHeader(); a registration also names its change source. */
export function recordRow(record: ChangeRecord): string {
  return row([
    record.seq,
    iso(record.timestamp),
    record.type,
    record.type === 'ChangeSourceRegistered' ? `${record.changesourceid} ${record.name}` : 'changesourceid' in record ? record.changesourceid : '—',
    'masterid' in record ? record.masterid : '—',
    detailOf(record),
  ])
}

/** The last column: a release's reason (an expiry with its deadline), a claim's token and lease. */
function detailOf(record: ChangeRecord): string {
  switch (record.type) {
    case 'MasterClaimed':
      return record.leaseMs === undefined ? `token ${record.seq}` : `token ${record.seq}, lease ${duration(record.leaseMs)}`
    case 'MasterReleased':
      return record.expiredAt === undefined ? record.reason : `${record.reason} at ${iso(record.expiredAt)}`
    case 'LeasesRenewed':
      return 'leases renewed'
    default:
      return '—'
  }
}

/** A progress callback that draws a bar on stderr when it is a terminal, and does nothing otherwise. */
export function progressBar(label: string): { onProgress?: (done: number, total: number) => void; stop(): void } {
  if (!process.stderr.isTTY) return { stop() {} }
  let bar: SingleBar | undefined
  return {
    onProgress(done, total) {
      if (bar === undefined) {
        bar = new SingleBar(
          { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total} records | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: true },
          Presets.shades_classic,
        )
        bar.start(total, 0)
      }
      bar.setTotal(total)
      bar.update(done)
    },
    stop() {
      bar?.stop()
    },
  }
}

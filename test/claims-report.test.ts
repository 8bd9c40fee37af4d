// The claims timeline report's data (issue 15): its intervals are history()'s claims, its gaps are
// exactly the rest of each lane, its ends say why each claim ended (any reason, lease-expired with
// its own mark and its deadline as the bar's end), and bad arguments are refused with a typed error.
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ChangeSources, ErrorCode, InvalidArgumentError } from '../src/index.js'
import { buildClaimsReport, type ClaimsReport, type ClaimsReportInput } from '../src/report/claims-report.js'
import { collectClaimsReport } from '../src/report/collect-claims-report.js'
import { rejectsWith } from './helpers/assertions.js'
import { random } from './helpers/random.js'

const T0 = Date.parse('2026-11-24T13:00:00Z')
const HOUR = 3_600_000

/** 13:00 a, b registered; 14:00 master 13 claims a; 15:00 releases it; 16:00 master 14 claims a; 17:00 master 13 claims b and is deactivated at 17:30; 18:00 c registered. */
async function scenario(): Promise<ChangeSources> {
  let clock = T0
  const cs = await ChangeSources.open({ db: new MemoryLevel(), now: () => clock })
  const a = await cs.findChangeSourceId('poller:acme/app')
  const b = await cs.findChangeSourceId('poller:acme/lib')
  clock = T0 + HOUR
  await cs.setChangeSourceMaster(a, 13)
  clock = T0 + 2 * HOUR
  await cs.setChangeSourceMaster(a, null)
  clock = T0 + 3 * HOUR
  await cs.setChangeSourceMaster(a, 14)
  clock = T0 + 4 * HOUR
  await cs.setChangeSourceMaster(b, 13)
  clock = T0 + 4.5 * HOUR
  await cs.masterDeactivated(13)
  clock = T0 + 5 * HOUR
  await cs.findChangeSourceId('poller:acme/docs')
  return cs
}

function gapsOf(report: ClaimsReport, changesourceid: number): Array<[number, number]> {
  return report.gaps.filter((gap) => gap.changesourceid === changesourceid).map((gap) => [(gap.start - T0) / HOUR, (gap.end - T0) / HOUR])
}

test('every claim of history() is one interval on its lane, with its token, ends and reason', async () => {
  const cs = await scenario()
  try {
    const report = await collectClaimsReport(cs, { source: 'memory' })
    const { claims } = await cs.history()
    assert.is(report.intervals.length, claims.length)
    for (const claim of claims) {
      const interval = report.intervals.find((candidate) => candidate.token === claim.from.seq)
      assert.ok(interval, `an interval for the claim at seq ${claim.from.seq}`)
      assert.is(report.lanes[interval.lane]!.changesourceid, claim.changesourceid)
      assert.is(report.lanes[interval.lane]!.name, claim.name)
      assert.is(interval.masterid, claim.masterid)
      assert.is(interval.start, claim.from.timestamp)
      assert.is(interval.end, claim.to?.timestamp ?? report.range.to)
      assert.is(interval.ending, claim.to?.reason ?? 'held')
      assert.equal(interval.to, claim.to)
    }
    assert.equal(report.lanes.map((lane) => lane.name), ['poller:acme/app', 'poller:acme/lib', 'poller:acme/docs'])
    assert.equal(report.range, { since: null, until: null, from: T0, to: T0 + 5 * HOUR })
    assert.equal(report.masters, [13, 14])
    assert.equal(
      report.endings.map(({ ending, mark, count }) => [ending, mark, count]),
      [['held', 'arrow', 1], ['master-deactivated', 'cross', 1], ['released', 'tick', 1]],
    )
  } finally {
    await cs.close()
  }
})

test('gaps are where nobody held a change source: before the first claim, between claims, after the last, from registration on', async () => {
  const cs = await scenario()
  try {
    const report = await collectClaimsReport(cs, { source: 'memory' })
    assert.equal(gapsOf(report, 1), [[0, 1], [2, 3]])
    assert.equal(gapsOf(report, 2), [[0, 4], [4.5, 5]])
    assert.equal(gapsOf(report, 3), [], 'registered at the end of the range: no time unheld in it')
    const between = report.gaps.find((gap) => gap.changesourceid === 1 && gap.start === T0 + 2 * HOUR)!
    assert.equal([between.afterToken, between.beforeToken, between.durationMs], [3, 5, HOUR])
    assert.equal(report.state.changeSources.map((changeSource) => changeSource.masterid), [14, null, null])
    assert.is(report.state.seq, cs.head)
    assert.equal(report.verify, await cs.verify())
  } finally {
    await cs.close()
  }
})

test('a range keeps the claims that overlap it, and gaps only inside it; the state is the one at its end', async () => {
  const cs = await scenario()
  try {
    const report = await collectClaimsReport(cs, { source: 'memory', since: T0 + 1.5 * HOUR, until: T0 + 4.25 * HOUR })
    const history = await cs.history({ since: T0 + 1.5 * HOUR, until: T0 + 4.25 * HOUR })
    assert.equal(report.intervals.map((interval) => interval.token).sort(), history.claims.map((claim) => claim.from.seq).sort())
    assert.equal(report.extent, { from: T0 + HOUR, to: T0 + 4.5 * HOUR }, 'widened to a claim held when the range began and one ended after it')
    assert.equal(gapsOf(report, 1), [[2, 3]])
    assert.equal(gapsOf(report, 2), [[1.5, 4]])
    assert.equal(report.lanes.length, 2, 'c was registered after the range')
    assert.equal(report.state.changeSources.map((changeSource) => changeSource.masterid), [14, 13])
  } finally {
    await cs.close()
  }
})

test('--changesource picks lanes by id or name; --master picks bars, and the gaps stay where nobody held', async () => {
  const cs = await scenario()
  try {
    const all = await collectClaimsReport(cs, { source: 'memory' })
    const some = await collectClaimsReport(cs, { source: 'memory', changesources: ['poller:acme/lib', 1], masterids: [14] })
    assert.equal(some.lanes.map((lane) => lane.changesourceid), [1, 2])
    assert.equal(some.intervals.map((interval) => [interval.token, interval.masterid]), [[5, 14]])
    assert.equal(some.gaps, all.gaps.filter((gap) => gap.changesourceid !== 3))
  } finally {
    await cs.close()
  }
})

test('bad arguments are typed errors and read nothing', async () => {
  const cs = await scenario()
  try {
    await rejectsWith(() => collectClaimsReport(cs, { source: 'memory', changesources: ['poller:nowhere'] }), ErrorCode.invalidArgument, InvalidArgumentError)
    await rejectsWith(() => collectClaimsReport(cs, { source: 'memory', changesources: [99] }), ErrorCode.invalidArgument, InvalidArgumentError)
    await rejectsWith(() => collectClaimsReport(cs, { source: 'memory', since: T0 + HOUR, until: T0 }), ErrorCode.invalidArgument, InvalidArgumentError)
    await rejectsWith(() => collectClaimsReport(cs, { source: 'memory', masterids: [0] }), ErrorCode.invalidArgument, InvalidArgumentError)
    await rejectsWith(() => collectClaimsReport(cs, { source: 'memory', since: Number.NaN }), ErrorCode.invalidArgument, InvalidArgumentError)
  } finally {
    await cs.close()
  }
})

/** A report over hand-made claims of one change source registered at T0, the range T0 … T0 + 4h. */
function handMade(claims: ClaimsReportInput['claims']): ClaimsReport {
  return buildClaimsReport({
    source: 'hand-made',
    claims,
    firstRecord: { seq: 1, timestamp: T0 },
    registrations: new Map([[1, { seq: 1, timestamp: T0 }]]),
    state: { seq: 9, hash: 'f'.repeat(64), timestamp: T0 + 4 * HOUR, changeSources: [{ id: 1, name: 'poller:acme/app', masterid: null }] },
    verify: { ok: true, length: 9, headHash: 'f'.repeat(64) },
  })
}

test('a lease-expired claim ends at its deadline, with its own mark, and the gap begins there', () => {
  const report = handMade([
    { changesourceid: 1, masterid: 13, from: { seq: 2, timestamp: T0 }, to: { seq: 3, timestamp: T0 + 2 * HOUR, reason: 'lease-expired', expiredAt: T0 + HOUR }, leaseMs: HOUR },
    { changesourceid: 1, masterid: 14, from: { seq: 4, timestamp: T0 + 3 * HOUR }, to: { seq: 5, timestamp: T0 + 4 * HOUR, reason: 'released' } },
  ])
  assert.equal(report.intervals.map((interval) => [interval.end, interval.ending, interval.durationMs]), [[T0 + HOUR, 'lease-expired', HOUR], [T0 + 4 * HOUR, 'released', HOUR]])
  assert.is(report.intervals[0]!.leaseMs, HOUR)
  assert.equal(gapsOf(report, 1), [[1, 3]])
  const marks = new Map(report.endings.map((entry) => [entry.ending, entry.mark]))
  assert.is(marks.get('lease-expired'), 'hourglass')
  assert.is(new Set(marks.values()).size, marks.size, 'each ending its own mark')
})

test('any reason gets a mark and a legend entry: unknown ones take the spare marks, one each', () => {
  const report = handMade(
    ['evicted', 'zzz-retired', 'released', 'master-deactivated', 'lease-expired'].map((reason, index) => ({
      changesourceid: 1,
      masterid: 1 + index,
      from: { seq: 2 + 2 * index, timestamp: T0 + index * HOUR * 0.5 },
      to: { seq: 3 + 2 * index, timestamp: T0 + (index + 0.5) * HOUR * 0.5, reason },
    })),
  )
  assert.equal(report.endings.map((entry) => entry.ending), ['evicted', 'lease-expired', 'master-deactivated', 'released', 'zzz-retired'])
  const marks = report.endings.map((entry) => entry.mark)
  assert.is(new Set(marks).size, marks.length, `distinct marks: ${marks.join(', ')}`)
  assert.ok(marks.every((mark) => typeof mark === 'string' && mark.length > 0))
})


test('on a random log, read offline: intervals are history()\'s claims, and intervals and gaps tile each lane without overlap', async () => {
  const db = new MemoryLevel()
  const next = random(15)
  let clock = T0
  const cs = await ChangeSources.open({ db, now: () => clock })
  for (let step = 0; step < 600; step++) {
    clock += Math.floor(next() * 60_000)
    const id = 1 + Math.floor(next() * 8)
    const master = 1 + Math.floor(next() * 4)
    const pick = next()
    if (pick < 0.1 || id > cs.head) await cs.findChangeSourceId(`source-${id}`)
    else if (pick < 0.55) await cs.trySetChangeSourceMaster(id, master).catch(() => {})
    else if (pick < 0.9) await cs.setChangeSourceMaster(id, null).catch(() => {})
    else await cs.masterDeactivated(master)
  }
  await cs.close()
  const log = await AuditLog.open({ db })
  try {
    for (const range of [{}, { since: T0 + 2 * HOUR }, { since: T0 + HOUR, until: T0 + 3 * HOUR }]) {
      const report = await collectClaimsReport(log, { source: 'memory', ...range })
      const { claims } = await log.history(range)
      assert.equal(report.intervals.map((interval) => interval.token).sort((a, b) => a - b), claims.map((claim) => claim.from.seq).sort((a, b) => a - b))
      report.lanes.forEach((lane, index) => {
        const pieces = [
          ...report.intervals.filter((interval) => interval.lane === index).map((interval) => [Math.max(interval.start, report.range.from), Math.min(interval.end, report.range.to)] as const),
          ...report.gaps.filter((gap) => gap.lane === index).map((gap) => [gap.start, gap.end] as const),
        ]
          .filter(([start, end]) => end > start)
          .sort((a, b) => a[0] - b[0])
        let covered = Math.max(report.range.from, lane.registered?.timestamp ?? report.range.from)
        for (const [start, end] of pieces) {
          assert.is(start, covered, `lane ${lane.changesourceid}: no hole and no overlap at ${start - T0}`)
          covered = end
        }
        assert.is(covered, Math.max(report.range.to, lane.registered?.timestamp ?? report.range.to), `lane ${lane.changesourceid} covered to the end`)
      })
    }
  } finally {
    await log.close()
  }
})

test.run()

// Leases on several instances sharing one log and one virtual clock: random schedules of claims
// (with and without leases), renewals, owner-checked and Buildbot releases, deactivations, clock
// moves and sweeps (on demand and by the scheduler). Each operation's outcome and records agree
// with a small model of the lease rules, a ClaimLostError appends nothing, and over the log's
// history no two masters ever hold a live claim of one change source at the same moment, each
// expiry names the deadline the log implies, and tokens strictly increase per change source.
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSourceAlreadyClaimedError, ChangeSources, ChangeSourcesError, ClaimLostError, SharedMemoryStore, type ChangeRecord, type Claim } from '../src/index.js'
import { ManualScheduler, settle } from './helpers/manual-scheduler.js'
import { runs } from './helpers/long.js'

const CHANGE_SOURCES = [1, 2, 3]
const MASTERS = [1, 2, 3]

type Op =
  | { op: 'claim'; id: number; master: number; leaseMs: number | undefined }
  | { op: 'renew'; master: number; named: boolean }
  | { op: 'ownedRelease'; id: number; master: number }
  | { op: 'release'; id: number; instance: number }
  | { op: 'deactivate'; master: number }
  | { op: 'expire'; instance: number }
  | { op: 'advance'; ms: number }

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('claim' as const), id: fc.constantFrom(...CHANGE_SOURCES), master: fc.constantFrom(...MASTERS), leaseMs: fc.constantFrom(undefined, 100, 100, 250) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('renew' as const), master: fc.constantFrom(...MASTERS), named: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ownedRelease' as const), id: fc.constantFrom(...CHANGE_SOURCES), master: fc.constantFrom(...MASTERS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), id: fc.constantFrom(...CHANGE_SOURCES), instance: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deactivate' as const), master: fc.constantFrom(...MASTERS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), instance: fc.nat(2) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 60, max: 400 })) }) },
)

interface ModelClaim {
  readonly master: number
  readonly token: number
  readonly since: number
  readonly leaseMs: number | null
}

/** A claim's stretch of the log's history: live from `start` to `end` (exclusive). */
interface Interval {
  readonly changesourceid: number
  readonly master: number
  readonly token: number
  readonly start: number
  end: number
}

/**
 * The lease rules, written again from the issue and docs/leases.md rather than from src: a lease
 * lasts leaseMs after its claim or its master's last renewal; the holder loses it at the deadline,
 * others may end it maxClockSkewMs later. Folding the log checks the history as it goes.
 */
class LeaseModel {
  readonly claims = new Map<number, ModelClaim>()
  readonly renewedAt = new Map<number, number>()
  readonly intervals: Interval[] = []
  readonly #open = new Map<number, Interval>()
  readonly #lastToken = new Map<number, number>()
  seq = 0

  constructor(readonly maxClockSkewMs: number) {}

  deadline(claim: ModelClaim): number | null {
    if (claim.leaseMs === null) return null
    return Math.max(claim.since, this.renewedAt.get(claim.master) ?? -Infinity) + claim.leaseMs
  }

  lapsedForHolder(claim: ModelClaim, now: number): boolean {
    const deadline = this.deadline(claim)
    return deadline !== null && now >= deadline
  }

  expirable(claim: ModelClaim, now: number): boolean {
    const deadline = this.deadline(claim)
    return deadline !== null && now >= deadline + this.maxClockSkewMs
  }

  claimOf(id: number, claim: ModelClaim): Claim {
    return { changesourceid: id, masterid: claim.master, token: claim.token, since: claim.since, leaseMs: claim.leaseMs, expiresAt: this.deadline(claim) }
  }

  heldBy(master: number): Array<[number, ModelClaim]> {
    return [...this.claims].filter(([, claim]) => claim.master === master).sort(([a], [b]) => a - b)
  }

  /**
   * Folds one record, checking it against the history so far. `actor` is the master whose own
   * operation appended it, or null (a sweep, Buildbot's release, a deactivation).
   */
  fold(record: ChangeRecord, actor: number | null): void {
    assert.is(record.seq, this.seq + 1, 'records come in seq order')
    this.seq = record.seq
    const where = `seq ${record.seq} ${JSON.stringify(record)}`
    switch (record.type) {
      case 'ChangeSourceRegistered':
        return
      case 'MasterClaimed': {
        assert.not.ok(this.claims.has(record.changesourceid), `${where}: claims a held change source`)
        const last = this.#lastToken.get(record.changesourceid) ?? 0
        assert.ok(record.seq > last, `${where}: tokens strictly increase per change source`)
        this.#lastToken.set(record.changesourceid, record.seq)
        this.claims.set(record.changesourceid, { master: record.masterid, token: record.seq, since: record.timestamp, leaseMs: record.leaseMs ?? null })
        // No other master's claim of this change source may still be live now.
        for (const interval of this.intervals) {
          if (interval.changesourceid === record.changesourceid && interval.master !== record.masterid) {
            assert.ok(interval.end <= record.timestamp, `${where}: master ${interval.master}'s claim (token ${interval.token}) is live until ${interval.end}`)
          }
        }
        const interval = { changesourceid: record.changesourceid, master: record.masterid, token: record.seq, start: record.timestamp, end: Infinity }
        this.intervals.push(interval)
        this.#open.set(record.changesourceid, interval)
        return
      }
      case 'MasterReleased': {
        const claim = this.claims.get(record.changesourceid)
        assert.ok(claim !== undefined && claim.master === record.masterid, `${where}: releases a claim its master does not hold`)
        const interval = this.#open.get(record.changesourceid)!
        if (record.reason === 'lease-expired') {
          const deadline = this.deadline(claim)
          assert.is(record.expiredAt, deadline, `${where}: expiredAt is the deadline the log implies`)
          assert.ok(record.timestamp >= deadline!, `${where}: no expiry before the deadline`)
          // Only the holder itself may count its lease lost at the deadline; others wait out the skew.
          if (actor !== record.masterid) assert.ok(record.timestamp >= deadline! + this.maxClockSkewMs, `${where}: expired by another less than maxClockSkewMs after the deadline`)
          interval.end = deadline!
        } else {
          // A lease that ran out before an ordinary release ended at its deadline.
          const deadline = this.deadline(claim)
          interval.end = deadline === null ? record.timestamp : Math.min(record.timestamp, deadline)
        }
        this.claims.delete(record.changesourceid)
        this.#open.delete(record.changesourceid)
        if (![...this.claims.values()].some((held) => held.master === record.masterid && held.leaseMs !== null)) this.renewedAt.delete(record.masterid)
        return
      }
      case 'LeasesRenewed': {
        const leases = this.heldBy(record.masterid).filter(([, claim]) => claim.leaseMs !== null)
        assert.ok(leases.length > 0, `${where}: renews a master that holds no lease`)
        for (const [id, claim] of leases) assert.not.ok(this.lapsedForHolder(claim, record.timestamp), `${where}: renews the lease of ${id} after it ran out`)
        this.renewedAt.set(record.masterid, Math.max(this.renewedAt.get(record.masterid) ?? -Infinity, record.timestamp))
        return
      }
    }
  }

  /** The claims still held at the end of the history are live until their deadline. */
  closeHistory(): void {
    for (const [id, claim] of this.claims) this.#open.get(id)!.end = this.deadline(claim) ?? Infinity
  }
}

type Expected = { events: object[]; result?: unknown } | { error: 'claim-lost'; reason: 'not-held' | 'lease-lapsed' } | { error: 'already-claimed' }

const claimedEvent = (id: number, master: number, leaseMs: number | null) =>
  leaseMs === null ? { type: 'MasterClaimed', changesourceid: id, masterid: master } : { type: 'MasterClaimed', changesourceid: id, masterid: master, leaseMs }
const expiryEvent = (model: LeaseModel, id: number, claim: ModelClaim) => ({ type: 'MasterReleased', changesourceid: id, masterid: claim.master, reason: 'lease-expired', expiredAt: model.deadline(claim) })

/** What the model says an operation does at `now`: the events it appends and what it returns, or its error. */
function expect(model: LeaseModel, op: Op, now: number, believed: Map<number, Map<number, number>>): Expected {
  const lost = (id: number, token: number, master: number | null): Expected | undefined => {
    const held = model.claims.get(id)
    if (held === undefined || held.token !== token || (master !== null && held.master !== master)) return { error: 'claim-lost', reason: 'not-held' }
    if (model.lapsedForHolder(held, now)) return { error: 'claim-lost', reason: 'lease-lapsed' }
    return undefined
  }
  switch (op.op) {
    case 'claim': {
      const held = model.claims.get(op.id)
      const leaseMs = op.leaseMs ?? null
      const fresh = (events: object[]): Expected => {
        const token = model.seq + events.length + 1
        return { events: [...events, claimedEvent(op.id, op.master, leaseMs)], result: { changesourceid: op.id, masterid: op.master, token, since: now, leaseMs, expiresAt: leaseMs === null ? null : Math.max(now, model.renewedAt.get(op.master) ?? -Infinity) + leaseMs } }
      }
      if (held === undefined) return fresh([])
      if (held.master === op.master) return model.lapsedForHolder(held, now) ? fresh([expiryEvent(model, op.id, held)]) : { events: [], result: model.claimOf(op.id, held) }
      if (model.expirable(held, now)) return fresh([expiryEvent(model, op.id, held)])
      return { error: 'already-claimed' }
    }
    case 'renew': {
      if (op.named) {
        for (const [id, token] of believed.get(op.master) ?? []) {
          const refusal = lost(id, token, op.master)
          if (refusal !== undefined) return refusal
        }
      }
      const events: object[] = []
      const live: Claim[] = []
      for (const [id, claim] of model.heldBy(op.master)) {
        if (claim.leaseMs === null) continue
        if (model.lapsedForHolder(claim, now)) events.push(expiryEvent(model, id, claim))
        else live.push({ ...model.claimOf(id, claim), expiresAt: Math.max(claim.since, now) + claim.leaseMs })
      }
      if (live.length > 0) events.push({ type: 'LeasesRenewed', masterid: op.master })
      return { events, result: live }
    }
    case 'ownedRelease': {
      const token = believed.get(op.master)?.get(op.id) ?? 1
      const refusal = lost(op.id, token, null)
      if (refusal !== undefined) return refusal
      const held = model.claims.get(op.id)!
      return { events: [model.expirable(held, now) ? expiryEvent(model, op.id, held) : { type: 'MasterReleased', changesourceid: op.id, masterid: held.master, reason: 'released' }] }
    }
    case 'release': {
      const held = model.claims.get(op.id)
      if (held === undefined) return { events: [] }
      return { events: [model.expirable(held, now) ? expiryEvent(model, op.id, held) : { type: 'MasterReleased', changesourceid: op.id, masterid: held.master, reason: 'released' }] }
    }
    case 'deactivate':
      return { events: model.heldBy(op.master).map(([id]) => ({ type: 'MasterReleased', changesourceid: id, masterid: op.master, reason: 'master-deactivated' })) }
    case 'expire': {
      const due = [...model.claims].filter(([, claim]) => model.expirable(claim, now)).sort(([a], [b]) => a - b)
      return { events: due.map(([id, claim]) => expiryEvent(model, id, claim)), result: due.map(([id]) => id) }
    }
    case 'advance':
      throw new Error('advance has no expected outcome')
  }
}

function eventOf(record: ChangeRecord): object {
  const { seq: _seq, timestamp: _timestamp, version: _version, hash: _hash, ...event } = record
  return event
}

const test = suite('leases on several instances sharing one log and one clock')

test('property: no two masters ever hold a live claim at once; outcomes agree with the model; a lost claim changes nothing', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 3 }),
      fc.constantFrom(0, 40),
      fc.constantFrom(0, 50, 120),
      fc.array(opArbitrary, { minLength: 5, maxLength: 40 }),
      async (count, maxClockSkewMs, sweepIntervalMs, ops) => {
        const store = new SharedMemoryStore()
        const scheduler = new ManualScheduler()
        const components: ChangeSources[] = []
        for (let index = 0; index < count; index++) {
          components.push(await ChangeSources.open({ store, scheduler, maxClockSkewMs, sweepIntervalMs, snapshotEvery: 0 }))
        }
        const instanceOf = (master: number) => components[(master - 1) % count]!
        const model = new LeaseModel(maxClockSkewMs)
        // What each master believes it holds: change source -> token, from its own calls' answers.
        const believed = new Map<number, Map<number, number>>(MASTERS.map((master) => [master, new Map()]))
        const log: ChangeRecord[] = []
        const foldNew = async (actor: number | null): Promise<ChangeRecord[]> => {
          for (const component of components) await component.catchUp()
          for (const component of components) await component.catchUp()
          const fresh: ChangeRecord[] = []
          for await (const record of components[0]!.read({ from: model.seq + 1 })) fresh.push(record)
          for (const record of fresh) {
            model.fold(record, actor)
            log.push(record)
          }
          return fresh
        }
        try {
          for (const name of CHANGE_SOURCES.map((id) => `cs${id}`)) await components[0]!.findChangeSourceId(name)
          await foldNew(null)
          for (const op of ops) {
            if (op.op === 'advance') {
              await scheduler.advance(op.ms)
              await settle()
              await foldNew(null)
              continue
            }
            const now = scheduler.now()
            const expected = expect(model, op, now, believed)
            let outcome: { result: unknown } | { error: unknown }
            try {
              outcome = { result: await run(op) }
            } catch (error) {
              outcome = { error }
              // As a master told by claims$ would: a claim it lost is no longer one it names.
              if (error instanceof ClaimLostError && op.op === 'renew') believed.get(op.master)!.delete(error.changesourceid)
            }
            const actor = op.op === 'claim' || op.op === 'renew' || op.op === 'ownedRelease' ? op.master : null
            const appended = (await foldNew(actor)).map(eventOf)
            const label = `${JSON.stringify(op)} at ${now}`
            if ('error' in expected) {
              assert.ok('error' in outcome, `${label}: expected ${expected.error}, got ${JSON.stringify(outcome)}`)
              if (expected.error === 'claim-lost') {
                assert.instance(outcome.error, ClaimLostError, label)
                assert.is((outcome.error as ClaimLostError).code, 'CHANGESOURCES_CLAIM_LOST')
                assert.is((outcome.error as ClaimLostError).reason, expected.reason, label)
              } else {
                assert.instance(outcome.error, ChangeSourceAlreadyClaimedError, label)
              }
              assert.equal(appended, [], `${label}: a refused operation appends nothing`)
            } else {
              if ('error' in outcome) throw outcome.error instanceof ChangeSourcesError ? new Error(`${label}: ${outcome.error.code} ${outcome.error.message}`) : outcome.error
              assert.equal(appended, expected.events, `${label}: records`)
              if ('result' in expected) assert.equal(outcome.result, expected.result, `${label}: result`)
            }
          }
        } finally {
          for (const component of components) await component.close()
        }
        model.closeHistory()
        // The whole history, pairwise: two masters' claims of one change source never overlap.
        for (const a of model.intervals) {
          for (const b of model.intervals) {
            if (a === b || a.changesourceid !== b.changesourceid || a.master === b.master) continue
            assert.ok(a.end <= b.start || b.end <= a.start, `claims ${a.token} (master ${a.master}) and ${b.token} (master ${b.master}) of ${a.changesourceid} overlap`)
          }
        }
        assert.ok(log.length > 0)

        async function run(op: Exclude<Op, { op: 'advance' }>): Promise<unknown> {
          switch (op.op) {
            case 'claim': {
              const claim = await instanceOf(op.master).claimChangeSource(op.id, op.master, op.leaseMs === undefined ? undefined : { leaseMs: op.leaseMs })
              believed.get(op.master)!.set(op.id, claim.token)
              return claim
            }
            case 'renew': {
              const mine = believed.get(op.master)!
              const renewed = await instanceOf(op.master).renewLeases(op.master, op.named ? [...mine].map(([changesourceid, token]) => ({ changesourceid, token })) : undefined)
              for (const claim of renewed) mine.set(claim.changesourceid, claim.token)
              return renewed
            }
            case 'ownedRelease': {
              const token = believed.get(op.master)!.get(op.id) ?? 1
              await instanceOf(op.master).releaseChangeSource(op.id, token)
              believed.get(op.master)!.delete(op.id)
              return undefined
            }
            case 'release':
              return components[op.instance % count]!.setChangeSourceMaster(op.id, null)
            case 'deactivate':
              return instanceOf(op.master).masterDeactivated(op.master)
            case 'expire':
              return components[op.instance % count]!.expireLeases()
          }
        }
      },
    ),
    { numRuns: runs(60, 1000) },
  )
})

test.run()

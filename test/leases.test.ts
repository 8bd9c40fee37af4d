// Leases through the component, on every store: tokens, deadlines, claims$ losing a claim by the
// clock before any record, the sweep, owner-checked calls that change nothing, and bad arguments.
// Time moves with a manual scheduler: nothing here waits for the wall clock.
import { filter, firstValueFrom } from 'rxjs'
import * as assert from 'uvu/assert'
import { ClaimLostError, ErrorCode, InvalidArgumentError, type Claim } from '../src/index.js'
import { onEachBackend } from './helpers/backends.js'
import { rejectsWith } from './helpers/assertions.js'
import { ManualScheduler, settle } from './helpers/manual-scheduler.js'

const LEASE = 10_000
const SKEW = 500
const SWEEP = 1_000

onEachBackend('leases', (test) => {
  test('a leased claim: its token is its record\'s seq, its deadline moves with renewals, and getClaim says so', async ({ store }) => {
    const scheduler = new ManualScheduler()
    const cs = await store.open({ scheduler, maxClockSkewMs: SKEW, sweepIntervalMs: SWEEP })
    const id = await cs.findChangeSourceId('repo')
    const claim = await cs.claimChangeSource(id, 1, { leaseMs: LEASE })
    assert.equal(claim, { changesourceid: id, masterid: 1, token: cs.head, since: scheduler.now(), leaseMs: LEASE, expiresAt: scheduler.now() + LEASE })
    assert.equal(await cs.getClaim(id), claim)
    assert.equal(await cs.getChangeSource(id), { id, name: 'repo', masterid: 1 })

    await scheduler.advance(4_000)
    const [renewed] = await cs.renewLeases(1, [claim])
    assert.equal(renewed, { ...claim, expiresAt: scheduler.now() + LEASE })
    // A re-claim by the holder changes nothing and gives the claim back.
    const head = cs.head
    assert.equal(await cs.claimChangeSource(id, 1, { leaseMs: 99 }), renewed)
    assert.is(cs.head, head)
    // Buildbot's claim has a token too, and no lease.
    const other = await cs.findChangeSourceId('other')
    await cs.setChangeSourceMaster(other, 2)
    assert.equal(await cs.getClaim(other), { changesourceid: other, masterid: 2, token: cs.head, since: scheduler.now(), leaseMs: null, expiresAt: null })
    assert.is(await cs.getClaim(await cs.findChangeSourceId('unclaimed')), null)
  })

  test('claims$ drops a claim when its lease runs out by the clock, before any record; the sweep records the expiry after the skew; another master takes over', async ({ store }) => {
    const scheduler = new ManualScheduler()
    const cs = await store.open({ scheduler, maxClockSkewMs: SKEW, sweepIntervalMs: SWEEP })
    const id = await cs.findChangeSourceId('repo')
    const seen: Array<readonly Claim[]> = []
    const subscription = cs.claims$(1).subscribe((claims) => seen.push(claims))
    const claim = await cs.claimChangeSource(id, 1, { leaseMs: LEASE })
    await settle()
    assert.equal(seen, [[], [claim]])

    await scheduler.advance(LEASE - 1)
    assert.is(seen.length, 2, 'still held a millisecond before the deadline')
    const headBefore = cs.head
    await scheduler.advance(1)
    assert.equal(seen.at(-1), [], 'lost at the deadline')
    assert.is(cs.head, headBefore, 'by the clock alone: nothing was appended')
    await rejectsWith(() => cs.claimChangeSource(id, 2), ErrorCode.alreadyClaimed)
    await rejectsWith(() => cs.renewLeases(1, [claim]), ErrorCode.claimLost, ClaimLostError)
    assert.is(cs.head, headBefore, 'a refused renewal appends nothing')

    // The sweep's append is a real write: wait for its record, not for a guess of how long it takes.
    const swept = firstValueFrom(cs.changes$.pipe(filter((record) => record.type === 'MasterReleased')))
    await scheduler.advance(SKEW + SWEEP)
    await swept
    const expiry = (await cs.history({ changesourceid: id })).claims[0]!.to
    assert.equal(expiry && { reason: expiry.reason, expiredAt: expiry.expiredAt }, { reason: 'lease-expired', expiredAt: claim.expiresAt })
    assert.is((await cs.getClaim(id)), null)
    const taken = await cs.claimChangeSource(id, 2, { leaseMs: LEASE })
    assert.ok(taken.token > claim.token)
    const error = await rejectsWith<ClaimLostError>(() => cs.releaseChangeSource(id, claim.token), ErrorCode.claimLost, ClaimLostError)
    assert.equal([error.reason, error.current], ['not-held', { masterid: 2, token: taken.token }])
    subscription.unsubscribe()
  })

  test('the sweep has a timer only while leases exist', async ({ store }) => {
    const scheduler = new ManualScheduler()
    const cs = await store.open({ scheduler, maxClockSkewMs: 0, sweepIntervalMs: SWEEP })
    const id = await cs.findChangeSourceId('repo')
    await cs.setChangeSourceMaster(id, 1)
    assert.is(scheduler.pending, 0, 'no leases, no timer')
    const claim = await cs.claimChangeSource(await cs.findChangeSourceId('leased'), 2, { leaseMs: LEASE })
    await settle()
    assert.is(scheduler.pending, 1)
    await cs.releaseChangeSource(claim.changesourceid, claim.token)
    await scheduler.advance(SWEEP)
    assert.is(scheduler.pending, 0, 'the last lease gone, the timer is not renewed')
    await cs.close()
    assert.is(scheduler.pending, 0)
  })

  test('bad lease arguments are InvalidArgumentErrors that change nothing', async ({ store }) => {
    const scheduler = new ManualScheduler()
    const cs = await store.open({ scheduler })
    const id = await cs.findChangeSourceId('repo')
    const head = cs.head
    for (const leaseMs of [0, -1, 1.5, Number.NaN, '1000', 2 ** 31, null]) {
      const error = await rejectsWith<InvalidArgumentError>(() => cs.claimChangeSource(id, 1, { leaseMs: leaseMs as number }), ErrorCode.invalidArgument, InvalidArgumentError)
      assert.is(error.argument, 'options.leaseMs')
    }
    await rejectsWith(() => cs.claimChangeSource(id, 1, 5 as never), ErrorCode.invalidArgument)
    await rejectsWith(() => cs.renewLeases(1, { changesourceid: id, token: 1 } as never), ErrorCode.invalidArgument)
    await rejectsWith(() => cs.renewLeases(1, [{ changesourceid: id, token: 0 }]), ErrorCode.invalidArgument)
    await rejectsWith(() => cs.releaseChangeSource(id, undefined as never), ErrorCode.invalidArgument)
    await rejectsWith(() => cs.renewLeases(1, [{ changesourceid: 999, token: 1 }]), ErrorCode.unknownChangeSource)
    for (const option of ['sweepIntervalMs', 'maxClockSkewMs'] as const) {
      await rejectsWith(() => store.open({ [option]: -1 }), ErrorCode.invalidArgument)
    }
    await rejectsWith(() => store.open({ scheduler: {} as never }), ErrorCode.invalidArgument)
    assert.is(cs.head, head)
  })
})

// decide, the rules, without a database: given events, when a command, then events or an error.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSourceAlreadyClaimedError, ClaimLostError, ErrorCode, UnknownChangeSourceError } from '../src/errors.js'
import { at, claimed, claimedWithLease, expired, given, registered, released, renewed } from './helpers/fixtures.js'

test('a new name is registered with the next id', () => {
  given().when({ type: 'RegisterChangeSource', name: 'csname' }).then([registered(1, 'csname')])
  given(registered(1, 'a'), registered(2, 'b'))
    .when({ type: 'RegisterChangeSource', name: 'c' })
    .then([registered(3, 'c')])
})

test('a known name registers nothing', () => {
  given(registered(1, 'csname')).when({ type: 'RegisterChangeSource', name: 'csname' }).thenNothingHappened()
})

test('names are compared exactly: case and whitespace make another name', () => {
  for (const other of ['CSNAME', 'csname ', ' csname', 'cs name', 'csname\n']) {
    given(registered(1, 'csname')).when({ type: 'RegisterChangeSource', name: other }).then([registered(2, other)])
  }
})

test('the empty name is a name, as in Buildbot', () => {
  given().when({ type: 'RegisterChangeSource', name: '' }).then([registered(1, '')])
  given(registered(1, '')).when({ type: 'RegisterChangeSource', name: '' }).thenNothingHappened()
})

test('claiming an unclaimed change source', () => {
  given(registered(42, 'cool_source')).when({ type: 'ClaimChangeSource', changesourceid: 42, masterid: 13 }).then([claimed(42, 13)])
})

test('claiming a change source another master holds is refused, naming both', () => {
  given(registered(87, 'lame_source'), claimed(87, 14))
    .when({ type: 'ClaimChangeSource', changesourceid: 87, masterid: 13 })
    .thenError(ChangeSourceAlreadyClaimedError, (error) => {
      assert.is(error.changesourceid, 87)
      assert.is(error.holderMasterid, 14)
      assert.is(error.requestedMasterid, 13)
      assert.match(error.message, 'lame_source')
      assert.match(error.message, 'master 14')
    })
})

test('a re-claim by the holder appends nothing (Buildbot docs, not its SQL)', () => {
  given(registered(42, 'cool_source'), claimed(42, 13))
    .when({ type: 'ClaimChangeSource', changesourceid: 42, masterid: 13 })
    .thenNothingHappened()
})

test('a change source released can be claimed by another master', () => {
  given(registered(42, 'cool_source'), claimed(42, 13), released(42, 13))
    .when({ type: 'ClaimChangeSource', changesourceid: 42, masterid: 14 })
    .then([claimed(42, 14)])
})

test('release names the master that held it, whoever asks', () => {
  given(registered(87, 'lame_source'), claimed(87, 14))
    .when({ type: 'ReleaseChangeSource', changesourceid: 87 })
    .then([released(87, 14)])
})

test('releasing an unclaimed change source appends nothing', () => {
  given(registered(87, 'lame_source')).when({ type: 'ReleaseChangeSource', changesourceid: 87 }).thenNothingHappened()
})

test('claims and releases of an unknown id are refused', () => {
  given(registered(1, 'a'))
    .when({ type: 'ClaimChangeSource', changesourceid: 2, masterid: 13 })
    .thenError(UnknownChangeSourceError, (error) => assert.is(error.changesourceid, 2))
  given().when({ type: 'ReleaseChangeSource', changesourceid: 1 }).thenError(UnknownChangeSourceError)
})

test('deactivating a master releases everything it holds, in id order, and nothing else', () => {
  given(
    registered(13, 'some:changesource'),
    registered(14, 'other:changesource'),
    registered(15, 'third'),
    claimed(14, 22),
    claimed(13, 22),
    claimed(15, 33),
  )
    .when({ type: 'DeactivateMaster', masterid: 22 })
    .then([released(13, 22, 'master-deactivated'), released(14, 22, 'master-deactivated')])
})

test('deactivating a master that holds nothing appends nothing', () => {
  given(registered(1, 'a'), claimed(1, 5)).when({ type: 'DeactivateMaster', masterid: 6 }).thenNothingHappened()
  given(registered(1, 'a'), claimed(1, 5), released(1, 5)).when({ type: 'DeactivateMaster', masterid: 5 }).thenNothingHappened()
})

// Leases. In given(...), a record's seq is its position, so a claim's token is its position too.
const claim = (changesourceid: number, masterid: number, leaseMs?: number) =>
  leaseMs === undefined ? { type: 'ClaimChangeSource' as const, changesourceid, masterid } : { type: 'ClaimChangeSource' as const, changesourceid, masterid, leaseMs }
const renew = (masterid: number, claims: Array<{ changesourceid: number; token: number }> | null = null) => ({ type: 'RenewLeases' as const, masterid, claims })
const release = (changesourceid: number, token?: number) =>
  token === undefined ? { type: 'ReleaseChangeSource' as const, changesourceid } : { type: 'ReleaseChangeSource' as const, changesourceid, token }
const sweep = { type: 'ExpireLeases' as const }

test('lease: a claim with a lease records its length', () => {
  given(registered(1, 'a')).when(claim(1, 7, 100), { now: 50 }).then([claimedWithLease(1, 7, 100)])
})

test('lease: a live lease is the holder\'s; another master is refused until it has run out by its clock', () => {
  const leased = [registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100))] as const
  given(...leased).when(claim(1, 8, 100), { now: 1099 }).thenError(ChangeSourceAlreadyClaimedError, (error) => assert.is(error.holderMasterid, 7))
  given(...leased).when(claim(1, 7, 100), { now: 1099 }).thenNothingHappened()
})

test('lease: renewal is one record for the master, with or without the claims it names', () => {
  const leased = [registered(1, 'a'), registered(2, 'b'), at(1000, claimedWithLease(1, 7, 100)), at(1010, claimedWithLease(2, 7, 100))] as const
  given(...leased).when(renew(7), { now: 1050 }).then([renewed(7)])
  given(...leased).when(renew(7, [{ changesourceid: 1, token: 3 }, { changesourceid: 2, token: 4 }]), { now: 1099 }).then([renewed(7)])
})

test('lease: a master with no lease renews nothing (a lease-less claim has nothing to renew)', () => {
  given(registered(1, 'a')).when(renew(7), { now: 5 }).thenNothingHappened()
  given(registered(1, 'a'), claimed(1, 7)).when(renew(7), { now: 5 }).thenNothingHappened()
})

test('lease: a renewal moves the deadline to its time plus the length', () => {
  const renewedAt80 = [registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)), at(1080, renewed(7))] as const
  given(...renewedAt80).when(claim(1, 8, 100), { now: 1179 }).thenError(ChangeSourceAlreadyClaimedError)
  given(...renewedAt80).when(claim(1, 8, 100), { now: 1180 }).then([expired(1, 7, 1180), claimedWithLease(1, 8, 100)])
})

test('lease: expiry on claim: a lease that ran out is taken over, its expiry naming the holder and the deadline', () => {
  given(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)))
    .when(claim(1, 8, 50), { now: 5000 })
    .then([expired(1, 7, 1100), claimedWithLease(1, 8, 50)])
  // Buildbot's claim takes over a run-out lease too; the new claim has no lease.
  given(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100))).when(claim(1, 8), { now: 1100 }).then([expired(1, 7, 1100), claimed(1, 8)])
})

test('lease: another master takes over only maxClockSkewMs after the deadline', () => {
  const leased = [registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100))] as const
  given(...leased).when(claim(1, 8, 100), { now: 1129, maxClockSkewMs: 30 }).thenError(ChangeSourceAlreadyClaimedError)
  given(...leased).when(claim(1, 8, 100), { now: 1130, maxClockSkewMs: 30 }).then([expired(1, 7, 1100), claimedWithLease(1, 8, 100)])
})

test('lease: the sweep records the expiry of each lease run out by now - maxClockSkewMs, in id order, and nothing else', () => {
  const leases = [
    registered(1, 'a'),
    registered(2, 'b'),
    registered(3, 'c'),
    registered(4, 'd'),
    at(1000, claimedWithLease(3, 7, 100)),
    at(1000, claimedWithLease(1, 8, 100)),
    at(1050, claimedWithLease(2, 8, 200)),
    at(1000, claimed(4, 9)),
  ] as const
  given(...leases).when(sweep, { now: 1099 }).thenNothingHappened()
  given(...leases).when(sweep, { now: 1100 }).then([expired(1, 8, 1100), expired(3, 7, 1100)])
  given(...leases).when(sweep, { now: 1120, maxClockSkewMs: 30 }).thenNothingHappened()
  given(...leases).when(sweep, { now: 1e12 }).then([expired(1, 8, 1100), expired(2, 8, 1250), expired(3, 7, 1100)])
})

test('lease: the owner-checked release of a live claim releases it', () => {
  given(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100))).when(release(1, 2), { now: 1099 }).then([released(1, 7)])
  given(registered(1, 'a'), claimed(1, 7)).when(release(1, 2), { now: 1e12 }).then([released(1, 7)])
})

test('lease: a stale token on release is CHANGESOURCES_CLAIM_LOST, not-held, naming the current claim', () => {
  const takenOver = [registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)), at(1200, expired(1, 7, 1100)), at(1200, claimedWithLease(1, 8, 100))] as const
  given(...takenOver)
    .when(release(1, 2), { now: 1210 })
    .thenError(ClaimLostError, (error) => {
      assert.is(error.code, ErrorCode.claimLost)
      assert.is(error.code, 'CHANGESOURCES_CLAIM_LOST')
      assert.is(error.reason, 'not-held')
      assert.is(error.token, 2)
      assert.equal(error.current, { masterid: 8, token: 4 })
      assert.match(error.message, 'master 8 holds it now, with token 4')
    })
  given(registered(1, 'a'), claimed(1, 7), released(1, 7))
    .when(release(1, 2))
    .thenError(ClaimLostError, (error) => {
      assert.is(error.reason, 'not-held')
      assert.is(error.current, null)
    })
})

test('lease: the owner-checked release of a lease run out is CHANGESOURCES_CLAIM_LOST, lease-lapsed, even before any expiry record', () => {
  given(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)))
    .when(release(1, 2), { now: 1100, maxClockSkewMs: 1000 })
    .thenError(ClaimLostError, (error) => {
      assert.is(error.reason, 'lease-lapsed')
      assert.equal(error.current, { masterid: 7, token: 2 })
    })
})

test('lease: a renewal naming a stale claim is CHANGESOURCES_CLAIM_LOST, whether taken over, lapsed or another\'s', () => {
  const takenOver = [registered(1, 'a'), registered(2, 'b'), at(1000, claimedWithLease(1, 7, 100)), at(1000, claimedWithLease(2, 7, 500)), at(1200, expired(1, 7, 1100)), at(1200, claimedWithLease(1, 8, 100))] as const
  given(...takenOver)
    .when(renew(7, [{ changesourceid: 2, token: 4 }, { changesourceid: 1, token: 3 }]), { now: 1210 })
    .thenError(ClaimLostError, (error) => {
      assert.is(error.reason, 'not-held')
      assert.is(error.changesourceid, 1)
      assert.equal(error.current, { masterid: 8, token: 6 })
    })
  // Master 7 names master 8's current claim, with its right token: still not its claim.
  given(...takenOver)
    .when(renew(7, [{ changesourceid: 1, token: 6 }]), { now: 1210 })
    .thenError(ClaimLostError, (error) => {
      assert.is(error.reason, 'not-held')
      assert.equal(error.current, { masterid: 8, token: 6 })
    })
  given(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)))
    .when(renew(7, [{ changesourceid: 1, token: 2 }]), { now: 1100 })
    .thenError(ClaimLostError, (error) => assert.is(error.reason, 'lease-lapsed'))
  given(registered(1, 'a')).when(renew(7, [{ changesourceid: 2, token: 2 }])).thenError(UnknownChangeSourceError)
})

test('lease: a renewal without claims ends the holder\'s own leases that ran out instead of extending them', () => {
  const leases = [registered(1, 'a'), registered(2, 'b'), at(1000, claimedWithLease(1, 7, 100)), at(1000, claimedWithLease(2, 7, 500))] as const
  given(...leases).when(renew(7), { now: 1100, maxClockSkewMs: 1000 }).then([expired(1, 7, 1100), renewed(7)])
  given(...leases).when(renew(7), { now: 1500 }).then([expired(1, 7, 1100), expired(2, 7, 1500)])
})

test('lease: the holder re-claiming after its lease ran out claims anew, with a new token, after recording the expiry', () => {
  given(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100)))
    .when(claim(1, 7, 100), { now: 1100, maxClockSkewMs: 1000 })
    .then([expired(1, 7, 1100), claimedWithLease(1, 7, 100)])
})

test('lease: Buildbot\'s release of a lease that ran out records its expiry at the deadline', () => {
  given(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100))).when(release(1), { now: 1300 }).then([expired(1, 7, 1100)])
  // Not yet expirable for other writers: an ordinary release, now.
  given(registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100))).when(release(1), { now: 1100, maxClockSkewMs: 30 }).then([released(1, 7)])
})

test('lease: Buildbot\'s lease-less claims are unchanged: they never expire, and setChangeSourceMaster semantics hold', () => {
  const held = [registered(1, 'a'), at(0, claimed(1, 7))] as const
  given(...held).when(claim(1, 8), { now: 1e13 }).thenError(ChangeSourceAlreadyClaimedError)
  given(...held).when(claim(1, 8, 100), { now: 1e13 }).thenError(ChangeSourceAlreadyClaimedError)
  given(...held).when(claim(1, 7), { now: 1e13 }).thenNothingHappened()
  given(...held).when(claim(1, 7, 100), { now: 1e13 }).thenNothingHappened()
  given(...held).when(sweep, { now: 1e13 }).thenNothingHappened()
  given(...held).when(release(1), { now: 1e13 }).then([released(1, 7)])
  given(...held).when({ type: 'DeactivateMaster', masterid: 7 }).then([released(1, 7, 'master-deactivated')])
  given(registered(1, 'a')).when(claim(1, 8), { now: 1e13 }).then([claimed(1, 8)])
})

test('lease: deactivating a master ends its leases too, and its tokens are then not-held', () => {
  const leased = [registered(1, 'a'), at(1000, claimedWithLease(1, 7, 100))] as const
  given(...leased).when({ type: 'DeactivateMaster', masterid: 7 }, { now: 1050 }).then([released(1, 7, 'master-deactivated')])
  given(...leased, at(1050, released(1, 7, 'master-deactivated')))
    .when(release(1, 2), { now: 1060 })
    .thenError(ClaimLostError, (error) => assert.is(error.reason, 'not-held'))
})

test.run()

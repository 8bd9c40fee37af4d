// Snapshots carry claims and lease holders (format 4): a state with leased and lease-less claims
// and renewals, restored from a snapshot, is the state a full replay of its log gives (claims, lease
// holders, getClaim); a renewal rewrites the head alone; a malformed claims page fails only the
// query that reaches it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ErrorCode, type ChangeSources } from '../src/index.js'
import { applyRecord, evolve } from '../src/domain/evolve.js'
import { trieForEach } from '../src/domain/id-trie.js'
import { getClaim, leasedClaims } from '../src/domain/leases.js'
import { getChangeSources, initialState, type ChangeSourcesState, type HeldClaim, type LeaseHolder } from '../src/domain/projection.js'
import { decodeRecord, stampEvent } from '../src/log/record-codec.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { PageChanges } from '../src/snapshots/page-changes.js'
import { claimsPartName, encodeSnapshot, HEAD_PART, type SnapshotHead } from '../src/snapshots/snapshot.js'
import { rejectsWith } from './helpers/assertions.js'
import { onEachBackend, type TestStore } from './helpers/backends.js'
import { at, claimed, claimedWithLease, registered, renewed, state } from './helpers/fixtures.js'
import { onRawDb, restoreOf, rewritePartPassingChecks } from './helpers/raw-snapshot.js'

/** Ids on rows pages 0 and 1. */
const IDS = Array.from({ length: 1100 }, (_, index) => index + 1)

/** What the restore must give back of a state: every claim, every lease holder, and the queries over them. */
function leaseView(state: ChangeSourcesState) {
  const claims: HeldClaim[] = []
  trieForEach(state.indexes.claims, (claim) => void claims.push(claim))
  const leaseHolders: LeaseHolder[] = []
  trieForEach(state.indexes.leaseHolders, (holder) => void leaseHolders.push(holder))
  return { claims, leaseHolders, getClaim: IDS.map((id) => getClaim(state, id)), leased: leasedClaims(state), all: getChangeSources(state) }
}

/** The state a fold of the store's whole log gives, no snapshot used. */
async function replayed(store: TestStore): Promise<ChangeSourcesState> {
  return onRawDb(store, async (db) => {
    const replay = initialState()
    for await (const entries of (await LevelLogStore.open(db as never, { sync: false })).read({ from: 1 })) {
      for (const { seq, value } of entries) applyRecord(replay, decodeRecord(seq, value, replay.hash))
    }
    return replay
  })
}

function headOf(parts: ReadonlyArray<{ name: string; value: string | null }>): SnapshotHead {
  return JSON.parse(parts.find((part) => part.name === HEAD_PART)!.value!) as SnapshotHead
}

test('given a snapshot of leases, when only renewals follow, then the next snapshot writes the head alone, with the renewal', async () => {
  const given = state(registered(1, 'a'), registered(2, 'b'), at(1000, claimedWithLease(1, 5, 5000)), at(1000, claimed(2, 6)))
  const first = await encodeSnapshot(given, 1000, undefined, new Set())
  assert.equal(headOf(first.parts).leaseHolders, [5, 0, 1])
  const changes = new PageChanges()
  let after = given
  for (const time of [2000, 3000]) {
    const record = stampEvent(renewed(5), after.seq + 1, time, after.hash)
    after = evolve(after, record)
    changes.record(record)
  }
  const next = await encodeSnapshot(after, 3000, first.stored, changes.dirtyIn(after))
  assert.equal(next.parts.map((part) => part.name), [HEAD_PART])
  assert.equal(headOf(next.parts).leaseHolders, [5, 3000, 1])
})

test.run()

/**
 * 1,100 change sources; master 1 holds 1 … 5 with leases, master 2 6 … 8 without, master 3
 * 1050 … 1052 with leases and 1060 without, master 4 9 with a lease that runs out; masters 1 and 3
 * renew. Written without snapshots, then the renewals at `every` 1: a whole snapshot, then one on it.
 */
async function buildLeases(store: TestStore, clock: { now: number }): Promise<void> {
  const options = { now: () => clock.now, sweepIntervalMs: 0, maxClockSkewMs: 0, sync: false }
  const writer = await store.open({ ...options, snapshotEvery: 0 })
  await Promise.all(IDS.map((id) => writer.findChangeSourceId(`source-${id}`)))
  clock.now = 1000
  for (const id of [1, 2, 3, 4, 5]) await writer.claimChangeSource(id, 1, { leaseMs: 5000 })
  for (const id of [6, 7, 8]) await writer.claimChangeSource(id, 2)
  for (const id of [1050, 1051, 1052]) await writer.claimChangeSource(id, 3, { leaseMs: 2000 })
  await writer.claimChangeSource(1060, 3)
  await writer.claimChangeSource(9, 4, { leaseMs: 100 })
  clock.now = 2000
  await writer.renewLeases(1)
  await writer.close()
  const snapshotting = await store.open({ ...options, snapshotEvery: 1 })
  clock.now = 2600
  await snapshotting.renewLeases(1)
  clock.now = 2700
  await snapshotting.renewLeases(3)
  await snapshotting.close()
}

onEachBackend('snapshots with leases', (test) => {
  test('a state with leased and lease-less claims and renewals, restored from a snapshot, is the replayed state; writes go on from it', async ({ store }) => {
    const clock = { now: 0 }
    await buildLeases(store, clock)
    const atHead = await restoreOf(store)
    assert.ok(atHead.snapshot.used, JSON.stringify(atHead.snapshot))
    assert.is(atHead.recordsFolded, 0)
    const expected = leaseView(await replayed(store))
    assert.equal(leaseView(atHead.state), expected)
    // What the replay gives, spelled out: tokens are the claims' seqs, deadlines follow the renewals.
    assert.equal(expected.leaseHolders, [
      { masterid: 1, renewedAt: 2600, leased: 5 },
      { masterid: 3, renewedAt: 2700, leased: 3 },
      { masterid: 4, renewedAt: 0, leased: 1 },
    ])
    assert.equal(getClaim(atHead.state, 1), { changesourceid: 1, masterid: 1, token: 1101, since: 1000, leaseMs: 5000, expiresAt: 7600 })
    assert.equal(getClaim(atHead.state, 1060), { changesourceid: 1060, masterid: 3, token: 1112, since: 1000, leaseMs: null, expiresAt: null })

    // The tail after the snapshot releases leased and lease-less claims, renews, claims and expires.
    const options = { now: () => clock.now, sweepIntervalMs: 0, maxClockSkewMs: 0, sync: false, snapshotEvery: 0 }
    const writer: ChangeSources = await store.open(options)
    assert.equal(await writer.getClaim(1050), getClaim(atHead.state, 1050))
    await writer.releaseChangeSource(2, (await writer.getClaim(2))!.token)
    await writer.setChangeSourceMaster(7, null)
    clock.now = 3000
    assert.equal((await writer.renewLeases(1)).map((claim) => claim.changesourceid), [1, 3, 4, 5])
    await writer.claimChangeSource(1061, 3, { leaseMs: 5000 })
    clock.now = 4000
    assert.equal(await writer.expireLeases(), [9])
    await writer.close()
    const withTail = await restoreOf(store)
    assert.ok(withTail.snapshot.used)
    assert.is(withTail.recordsFolded, 5)
    const afterTail = leaseView(await replayed(store))
    assert.equal(leaseView(withTail.state), afterTail)
    assert.equal(afterTail.leaseHolders, [
      { masterid: 1, renewedAt: 3000, leased: 4 },
      { masterid: 3, renewedAt: 2700, leased: 4 },
    ])
    // The component opened on the snapshot answers as the replay does.
    const reopened = await store.open(options)
    for (const id of [1, 2, 6, 7, 9, 1050, 1060, 1061]) assert.equal(await reopened.getClaim(id), afterTail.getClaim[id - 1], `getClaim(${id})`)
    await reopened.close()
  })

  test('a malformed claims page that only a query reaches fails that query with CHANGESOURCES_CORRUPT_LOG, and nothing else', async ({ store }) => {
    const clock = { now: 0 }
    await buildLeases(store, clock)
    const page = claimsPartName(1)
    const stored = await onRawDb(store, async (db) => JSON.parse((await db.get(`snapshot!${page}`))!) as number[])
    // Page 1: master 3's claims of 1050 … 1052 (leased) and 1060 (not), as [offset, masterid, token, since, leaseMs].
    assert.is(stored.length, 20)
    const malformedPages: Array<[string, number[], number]> = [
      ['not of five numbers a claim', stored.slice(0, 18), 6],
      ['a claim listed twice', [...stored.slice(0, 15), ...stored.slice(10, 15)], 7],
      // 1060's claim given to master 2, which holds no lease, with a lease.
      ['a lease for a master that holds none', stored.map((value, index) => (index === 16 ? 2 : index === 19 ? 1000 : value)), 8],
    ]
    for (const [why, value, released] of malformedPages) {
      await rewritePartPassingChecks(store, page, JSON.stringify(value))
      const reopened = await store.open({ now: () => clock.now, sweepIntervalMs: 0, snapshotEvery: 0 })
      const error = await rejectsWith(() => reopened.getClaim(1050), ErrorCode.corruptLog)
      assert.match(error.message, page, why)
      // Page 0 still answers, and writes that do not reach page 1 go on.
      assert.is((await reopened.getClaim(1))!.token, 1101, why)
      assert.is((await reopened.getChangeSource(released))!.masterid, 2, why)
      await reopened.setChangeSourceMaster(released, null)
      assert.is((await reopened.getChangeSource(released))!.masterid, null, why)
      await reopened.close()
    }
  })
}, { levelOnly: true })

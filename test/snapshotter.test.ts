// The snapshotter writes snapshots in the background (snapshot.ts): a write that makes one due does
// not wait for it; each snapshot holds exactly the state after the batch that made it due, even as
// later batches change pages while it is encoded and stored; a snapshot that cannot be stored
// fails nothing, and the next one rewrites every page; claims and releases rewrite only the claims
// pages whose claims they changed.
import { MemoryLevel } from 'memory-level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Command } from '../src/domain/commands.js'
import type { ChangeRecord } from '../src/domain/events.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import type { SnapshotPart } from '../src/stores/log-store.js'
import { findIdByName, getChangeSources, initialState, type ChangeSourcesState } from '../src/domain/projection.js'
import { restoreState } from '../src/engine/restore.js'
import { applyRecord, produceState } from '../src/domain/evolve.js'
import { stampEvent } from '../src/log/record-codec.js'
import { claimsPartName, encodeSnapshot, HEAD_PART, namePageKey, pageOf, partNamesOf, type SnapshotHead } from '../src/snapshots/snapshot.js'
import { getClaim } from '../src/domain/leases.js'
import { Snapshotter } from '../src/snapshots/snapshotter.js'
import { Writer } from '../src/engine/writer.js'

/** A log store whose snapshot writes wait at a gate until the test opens it (or makes them fail). */
async function gatedStore() {
  const db = new MemoryLevel<string, string>()
  await db.open()
  const store = await LevelLogStore.open(db, { sync: false })
  const held: Array<{ parts: readonly SnapshotPart[]; settle: (fail: boolean) => Promise<void> }> = []
  const snapshotStore = {
    writeSnapshot(parts: readonly SnapshotPart[]): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        held.push({
          parts,
          settle: async (fail) => {
            if (fail) return reject(new Error('the disk is full'))
            await store.writeSnapshot(parts)
            resolve()
          },
        })
      })
    },
  }
  return { db, store, snapshotStore, held }
}

/**
 * Lets the background work (setImmediate slices) run: until `reached` holds (a slow machine may
 * need more turns; none in this file needs more than a few), or, without it, 20 turns in which it
 * could do what it must not.
 */
async function letBackgroundRun(reached?: () => boolean): Promise<void> {
  for (let turn = 0; reached === undefined ? turn < 20 : !reached(); turn++) {
    if (turn >= 10_000) throw new Error('the background work never got there')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

function headOf(parts: readonly SnapshotPart[]): SnapshotHead {
  return JSON.parse(parts.find((part) => part.name === HEAD_PART)!.value!) as SnapshotHead
}

const register = (name: string): Command => ({ type: 'RegisterChangeSource', name })
const claim = (changesourceid: number, masterid: number): Command => ({ type: 'ClaimChangeSource', changesourceid, masterid })

test('a due snapshot is written after the writes that made it due resolved, as the state after their batch, whatever came after', async () => {
  const { db, store, snapshotStore, held } = await gatedStore()
  const snapshotter = new Snapshotter(snapshotStore, 10)
  const writer = new Writer({ state: initialState(), store, publish: () => {}, now: () => 1, committed: (state, appended) => snapshotter.committed(state, appended) })
  const states = new Map<number, ChangeSourcesState>()
  const submit = async (command: Command) => {
    const { state } = await writer.submit(command)
    states.set(state.seq, state)
  }
  for (let index = 0; index < 10; index++) await submit(register(`source-${index}`))
  await letBackgroundRun(() => held.length === 1)
  // Due at seq 10, held at the gate: the writes went on without it.
  assert.is(held.length, 1)
  assert.is(headOf(held[0]!.parts).seq, 10)
  // While it is held: claims change rows page 0 again, and seq 20 makes the next snapshot due.
  for (let id = 1; id <= 10; id++) await submit(claim(id, 1 + (id % 2)))
  for (let index = 10; index < 13; index++) await submit(register(`source-${index}`))
  await letBackgroundRun()
  assert.is(held.length, 1, 'one snapshot at a time')
  await held[0]!.settle(false)
  await letBackgroundRun(() => held.length === 2)
  assert.is(headOf(held[1]!.parts).seq, 20, 'the newest that came due')
  await held[1]!.settle(false)
  await snapshotter.settled()
  // Restored from the stored snapshot (at 20) plus the tail, the state is the written one: had the
  // pages changed between 10 and 20 been taken as clean, rows page 0 would be as of seq 10.
  const restored = await restoreState(store)
  assert.ok(restored.snapshot.used && restored.snapshot.seq === 20)
  assert.is(restored.recordsFolded, 3)
  assert.equal(getChangeSources(restored.state), getChangeSources(writer.state))
  assert.equal(getChangeSources(restored.state, { masterid: 2 }), getChangeSources(states.get(23)!, { masterid: 2 }))
  await db.close()
})

test('a snapshot that cannot be stored fails no write, and the next one rewrites every page', async () => {
  const { db, store, snapshotStore, held } = await gatedStore()
  const snapshotter = new Snapshotter(snapshotStore, 5)
  const writer = new Writer({ state: initialState(), store, publish: () => {}, now: () => 1, committed: (state, appended) => snapshotter.committed(state, appended) })
  for (let index = 0; index < 5; index++) await writer.submit(register(`source-${index}`))
  await letBackgroundRun(() => held.length === 1)
  await held[0]!.settle(true)
  await snapshotter.settled()
  for (let id = 1; id <= 5; id++) await writer.submit(claim(id, 3))
  await letBackgroundRun(() => held.length === 2)
  const pages = held[1]!.parts.filter((part) => part.name !== HEAD_PART)
  // Rows page 0 and the names part of all five names: nothing was taken as already stored.
  assert.ok(pages.some((part) => part.name === 'rows!00000000'))
  assert.equal(pages.filter((part) => part.name.startsWith('names!')).map((part) => part.name), partNamesOf(headOf(held[1]!.parts)).names)
  assert.is(partNamesOf(headOf(held[1]!.parts)).names.length, 1)
  await held[1]!.settle(false)
  await snapshotter.settled()
  const restored = await restoreState(store)
  assert.ok(restored.snapshot.used && restored.snapshot.seq === 10)
  assert.equal(getChangeSources(restored.state), getChangeSources(writer.state))
  await db.close()
})

test('after a snapshot, claims and releases rewrite only their claims pages, and a page whose last claim went is deleted', async () => {
  const { db, store, snapshotStore, held } = await gatedStore()
  const snapshotter = new Snapshotter(snapshotStore, 2200)
  const writer = new Writer({ state: initialState(), store, publish: () => {}, now: () => 1, committed: (state, appended) => snapshotter.committed(state, appended) })
  const release = (changesourceid: number): Command => ({ type: 'ReleaseChangeSource', changesourceid })
  const all = (commands: Command[]) => Promise.all(commands.map((command) => writer.submit(command)))
  const ids = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, index) => first + index)
  // Three rows pages (ids 1 … 2100), claims on page 0 only: 2,200 records, the first snapshot.
  await all(ids(1, 2100).map((id) => register(`source-${id}`)))
  await all(ids(1, 100).map((id) => claim(id, 1)))
  await letBackgroundRun(() => held.length === 1)
  assert.ok(held[0]!.parts.some((part) => part.name === 'claims!00000000'))
  await held[0]!.settle(false)
  await snapshotter.settled()
  // Page 0's claims all go; pages 1 and 2 get some, and page 1 loses most again: 2,200 more.
  await all(ids(1, 100).map(release))
  await all(ids(1025, 2024).map((id) => claim(id, 2)))
  await all(ids(1025, 2024).map(release))
  await all([...ids(1030, 1079), ...ids(2050, 2099)].map((id) => claim(id, 3)))
  await letBackgroundRun(() => held.length === 2)
  const written = held[1]!.parts.map((part) => [part.name, part.value === null ? 'deleted' : 'written'])
  assert.equal(written, [
    ['claims!00000001', 'written'],
    ['claims!00000002', 'written'],
    ['claims!00000000', 'deleted'],
    [HEAD_PART, 'written'],
  ])
  await held[1]!.settle(false)
  await snapshotter.settled()
  const restored = await restoreState(store)
  assert.ok(restored.snapshot.used && restored.snapshot.seq === 4400)
  assert.equal(getChangeSources(restored.state), getChangeSources(writer.state))
  for (const masterid of [1, 2, 3]) assert.equal(getChangeSources(restored.state, { masterid }), getChangeSources(writer.state, { masterid }))
  assert.is(await db.get('snapshot!claims!00000000'), undefined)
  await db.close()
})

test('names parts hold about 1,024 buckets each: regrouped as the names grow, untouched by claims', async () => {
  const { db, store, snapshotStore, held } = await gatedStore()
  const snapshotter = new Snapshotter(snapshotStore, 3000)
  const writer = new Writer({ state: initialState(), store, publish: () => {}, now: () => 1, committed: (state, appended) => snapshotter.committed(state, appended) })
  const registerAll = (first: number, count: number) => Promise.all(Array.from({ length: count }, (_, index) => writer.submit(register(`poller:${first + index}`))))
  const namesWritten = (parts: readonly SnapshotPart[]) => parts.filter((part) => part.name.startsWith('names!')).map((part) => part.name)
  const settleNext = async (count: number) => {
    await letBackgroundRun(() => held.length === count)
    await held[count - 1]!.settle(false)
    await snapshotter.settled()
    return held[count - 1]!.parts
  }
  // 3,000 names over 1,024 pages: 4 parts of 256 pages.
  await registerAll(0, 3000)
  let parts = await settleNext(1)
  assert.is(headOf(parts).namePagesPerPart, 256)
  assert.equal(namesWritten(parts), partNamesOf(headOf(parts)).names)
  assert.is(namesWritten(parts).length, 4)
  // 6,000: 8 parts of 128, every one rewritten.
  await registerAll(3000, 3000)
  parts = await settleNext(2)
  assert.is(headOf(parts).namePagesPerPart, 128)
  assert.is(namesWritten(parts).length, 8)
  // Claims touch no name.
  await Promise.all(Array.from({ length: 3000 }, (_, index) => writer.submit(claim(index + 1, 4))))
  parts = await settleNext(3)
  assert.equal(namesWritten(parts), [])
  const restored = await restoreState(store)
  assert.ok(restored.snapshot.used && restored.snapshot.seq === 9000)
  assert.equal(getChangeSources(restored.state), getChangeSources(writer.state))
  for (const index of [0, 2999, 3000, 5999]) assert.is(findIdByName(restored.state, `poller:${index}`), index + 1)
  assert.is(findIdByName(restored.state, 'poller:6000'), undefined)
  await db.close()
})

test('claims that come and go between two snapshots rewrite no claims page, nor do those folded on open; claims back by their holder rewrite theirs', async () => {
  const { db, store, snapshotStore, held } = await gatedStore()
  let snapshotter = new Snapshotter(snapshotStore, 2200)
  const committed = (state: ChangeSourcesState, appended: readonly ChangeRecord[]) => snapshotter.committed(state, appended)
  const writer = new Writer({ state: initialState(), store, publish: () => {}, now: () => 1, committed })
  const release = (changesourceid: number): Command => ({ type: 'ReleaseChangeSource', changesourceid })
  const ids = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, index) => first + index)
  // Three rows pages, each with claims: 2,200 records, the first snapshot.
  await Promise.all(ids(1, 2100).map((id) => writer.submit(register(`source-${id}`))))
  const heldByOne = new Set([...ids(5, 37), ...ids(1030, 1062), ...ids(2050, 2083)])
  await Promise.all([...heldByOne].map((id) => writer.submit(claim(id, 1))))
  await letBackgroundRun(() => held.length === 1)
  await held[0]!.settle(false)
  await snapshotter.settled()
  // Claim-release cycles on every page, and master 1 releasing some of its change sources and
  // claiming each back at once: a claim back has a new token, so its page is rewritten.
  const claimedBack = new Set<number>()
  const cycles = async (on: Writer, count: number) => {
    for (let index = 0; index < count; index++) {
      const id = 40 + ((index * 211) % 2000)
      if (heldByOne.has(id)) claimedBack.add(id)
      await on.submit(heldByOne.has(id) ? release(id) : claim(id, 2))
      await on.submit(heldByOne.has(id) ? claim(id, 1) : release(id))
    }
  }
  await cycles(writer, 500)
  // Open here: the 1,000 records folded after the snapshot go to a new writer's snapshotter.
  const restored = await restoreState(store)
  assert.ok(restored.snapshot.used && restored.recordsFolded === 1000)
  snapshotter = new Snapshotter(snapshotStore, 2200, { snapshot: restored.snapshot.stored, changes: restored.changes })
  const reopened = new Writer({ state: restored.state, store, publish: () => {}, now: () => 1, committed })
  await cycles(reopened, 600)
  const pagesClaimedBack = [...new Set([...claimedBack].map((id) => claimsPartName(pageOf(id))))].sort()
  assert.ok(pagesClaimedBack.length > 0 && pagesClaimedBack.length < 3, pagesClaimedBack.join())
  await letBackgroundRun(() => held.length === 2)
  assert.equal(held[1]!.parts.map((part) => part.name), [...pagesClaimedBack, HEAD_PART], 'the head and the pages of the claims back alone')
  assert.is(headOf(held[1]!.parts).seq, 4400)
  await held[1]!.settle(false)
  await snapshotter.settled()
  const reread = await restoreState(store)
  assert.ok(reread.snapshot.used && reread.snapshot.seq === 4400)
  assert.equal(getChangeSources(reread.state), getChangeSources(reopened.state))
  assert.equal(getChangeSources(reread.state, { masterid: 1 }).map(({ id }) => id), [...heldByOne])
  for (const id of [...heldByOne, ...claimedBack]) assert.equal(getClaim(reread.state, id), getClaim(reopened.state, id))
  await db.close()
})

test('a page taken as changed but encoded as stored is not written again', async () => {
  const ids = Array.from({ length: 1100 }, (_, index) => index + 1)
  const state = produceState(initialState(), (draft) => {
    let seq = 0
    for (const id of ids) applyRecord(draft, stampEvent({ type: 'ChangeSourceRegistered', changesourceid: id, name: `poller:${id}` }, ++seq, 1, draft.hash))
    for (const id of [3, 1050]) applyRecord(draft, stampEvent({ type: 'MasterClaimed', changesourceid: id, masterid: 4 }, ++seq, 1, draft.hash))
  })
  const first = await encodeSnapshot(state, 1, undefined, new Set())
  const { names } = partNamesOf(headOf(first.parts))
  assert.equal(first.parts.map((part) => part.name).sort(), ['claims!00000000', 'claims!00000001', HEAD_PART, ...names, 'rows!00000000', 'rows!00000001'])
  const again = await encodeSnapshot(state, 1, first.stored, new Set(['claims!00000001', 'rows!00000000', namePageKey(0)]))
  assert.equal(again.parts.map((part) => part.name), [HEAD_PART])
  assert.equal(again.stored.checksums, first.stored.checksums)
  assert.equal(again.parts[0], first.parts.find((part) => part.name === HEAD_PART))
})

test.run()

/**
 * evolve: how a record changes the projection. `applyRecord` is a recipe in immer's style: it
 * changes the state it is given, copy-on-write (see id-trie.ts). It runs on a private, not yet
 * frozen state during replay (all in place), on an immer draft in `evolve`, and on the write path in
 * `applyRecords`, where the committed state is frozen, so the result shares every untouched node
 * with it and only the nodes on each record's path are copied (then frozen).
 */
import { Immer } from 'immer'
import type { ChangeRecord } from './events.js'
import { emptyTrie, freezeFresh, trieDelete, trieGet, trieSet, writable } from './id-trie.js'
import { nameBucket, type ChangeSource, type ChangeSourcesState } from './projection.js'

// A private instance: the host application's immer settings are its own business.
export const immer = new Immer({ autoFreeze: true })

/** The pure form: the state after `record`. */
export function evolve(state: ChangeSourcesState, record: ChangeRecord): ChangeSourcesState {
  return immer.produce(state, (draft) => applyRecord(draft, record))
}

/**
 * The write path's form: the state after `records`, frozen, sharing every untouched node with
 * `state`, which must be frozen (the committed state is) and is left as it was.
 */
export function applyRecords(state: ChangeSourcesState, records: readonly ChangeRecord[]): ChangeSourcesState {
  const next = writable(state)
  for (const record of records) applyRecord(next, record)
  return freezeFresh(next)
}

/** Changes `state`, which must itself be writable (unfrozen, a draft, or a copy made by `writable`). */
export function applyRecord(state: ChangeSourcesState, record: ChangeRecord): void {
  switch (record.type) {
    case 'ChangeSourceRegistered': {
      const changeSource = changeSourceOf(record.changesourceid, record.name, null)
      trieSet((state.byId = writable(state.byId)), changeSource.id, changeSource)
      trieSet((state.unclaimed = writable(state.unclaimed)), changeSource.id, changeSource)
      const buckets = (state.idsByNameBucket = writable(state.idsByNameBucket))
      const bucketKey = nameBucket(record.name)
      const bucket = trieGet(buckets, bucketKey)
      if (bucket === undefined) trieSet(buckets, bucketKey, [changeSource.id])
      else {
        const own = writable(bucket)
        own.push(changeSource.id)
        if (own !== bucket) trieSet(buckets, bucketKey, own)
      }
      state.nextId = Math.max(state.nextId, changeSource.id + 1)
      break
    }
    case 'MasterClaimed': {
      const previous = trieGet(state.byId, record.changesourceid)!
      const changeSource = changeSourceOf(previous.id, previous.name, record.masterid)
      trieSet((state.byId = writable(state.byId)), changeSource.id, changeSource)
      trieDelete((state.unclaimed = writable(state.unclaimed)), changeSource.id)
      trieSet((state.claimed = writable(state.claimed)), changeSource.id, changeSource)
      const byMaster = (state.byMaster = writable(state.byMaster))
      const existing = trieGet(byMaster, record.masterid)
      const held = existing === undefined ? emptyTrie<ChangeSource>() : writable(existing)
      if (held !== existing) trieSet(byMaster, record.masterid, held)
      // Re-read through the parent: on an immer draft the assigned trie comes back as a draft.
      trieSet(trieGet(byMaster, record.masterid)!, changeSource.id, changeSource)
      break
    }
    case 'MasterReleased': {
      const previous = trieGet(state.byId, record.changesourceid)!
      const changeSource = changeSourceOf(previous.id, previous.name, null)
      trieSet((state.byId = writable(state.byId)), changeSource.id, changeSource)
      trieDelete((state.claimed = writable(state.claimed)), changeSource.id)
      trieSet((state.unclaimed = writable(state.unclaimed)), changeSource.id, changeSource)
      const byMaster = (state.byMaster = writable(state.byMaster))
      const existing = trieGet(byMaster, record.masterid)
      if (existing !== undefined) {
        const held = writable(existing)
        if (held !== existing) trieSet(byMaster, record.masterid, held)
        trieDelete(held, changeSource.id)
        if (held.size === 0) trieDelete(byMaster, record.masterid)
      }
      break
    }
  }
  state.seq = record.seq
  state.hash = record.hash
}

function changeSourceOf(id: number, name: string, masterid: number | null): ChangeSource {
  return Object.freeze({ id, name, masterid })
}

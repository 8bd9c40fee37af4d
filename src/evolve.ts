/**
 * evolve: how a record changes the projection. `applyRecord` is an immer recipe: it mutates the
 * state it is given, which is a draft on the write path (so the result shares all untouched nodes
 * with the previous state) and a private, not yet frozen state during replay.
 */
import { Immer } from 'immer'
import type { ChangeRecord } from './events.js'
import { emptyTrie, trieDelete, trieGet, trieSet } from './id-trie.js'
import { nameBucket, type ChangeSource, type ChangeSourcesState } from './projection.js'

// A private instance: the host application's immer settings are its own business.
export const immer = new Immer({ autoFreeze: true })

/** The pure form: the state after `record`. */
export function evolve(state: ChangeSourcesState, record: ChangeRecord): ChangeSourcesState {
  return immer.produce(state, (draft) => applyRecord(draft, record))
}

export function applyRecord(state: ChangeSourcesState, record: ChangeRecord): void {
  switch (record.type) {
    case 'ChangeSourceRegistered': {
      const changeSource = changeSourceOf(record.changesourceid, record.name, null)
      trieSet(state.byId, changeSource.id, changeSource)
      trieSet(state.unclaimed, changeSource.id, changeSource)
      const bucketKey = nameBucket(record.name)
      const bucket = trieGet(state.idsByNameBucket, bucketKey)
      if (bucket === undefined) trieSet(state.idsByNameBucket, bucketKey, [changeSource.id])
      else bucket.push(changeSource.id)
      state.nextId = Math.max(state.nextId, changeSource.id + 1)
      break
    }
    case 'MasterClaimed': {
      const previous = trieGet(state.byId, record.changesourceid)!
      const changeSource = changeSourceOf(previous.id, previous.name, record.masterid)
      trieSet(state.byId, changeSource.id, changeSource)
      trieDelete(state.unclaimed, changeSource.id)
      trieSet(state.claimed, changeSource.id, changeSource)
      let held = trieGet(state.byMaster, record.masterid)
      if (held === undefined) {
        trieSet(state.byMaster, record.masterid, emptyTrie<ChangeSource>())
        held = trieGet(state.byMaster, record.masterid)!
      }
      trieSet(held, changeSource.id, changeSource)
      break
    }
    case 'MasterReleased': {
      const previous = trieGet(state.byId, record.changesourceid)!
      const changeSource = changeSourceOf(previous.id, previous.name, null)
      trieSet(state.byId, changeSource.id, changeSource)
      trieDelete(state.claimed, changeSource.id)
      trieSet(state.unclaimed, changeSource.id, changeSource)
      const held = trieGet(state.byMaster, record.masterid)
      if (held !== undefined) {
        trieDelete(held, changeSource.id)
        if (held.size === 0) trieDelete(state.byMaster, record.masterid)
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

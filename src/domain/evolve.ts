/**
 * evolve: how a record changes the projection. `applyRecord` is the immer recipe: it changes the
 * state it is given. On the write path and in `evolve`, that state is an immer draft of the
 * committed, frozen state: immer copies the state's own small object, and each trie copies the
 * nodes on the record's path (tries are values to immer, see id-trie.ts), so the next state shares
 * every untouched node with the last. During replay it is a private, unfrozen state, changed in
 * place and frozen once at the end.
 */
import { Immer } from 'immer'
import type { ChangeRecord } from './events.js'
import { created, emptyTrie, freezeFresh, freezingCreated, trieDelete, trieGet, trieSet, writable } from './id-trie.js'
import { bucketWith } from './name-index.js'
import { Indexes, nameBucket, type ChangeSource, type ChangeSourcesState, type LeaseHolder } from './projection.js'

// A private instance: the host application's immer settings are its own business.
const immer = new Immer({ autoFreeze: true })

/** The pure form: the state after `record`; `state` is left as it was. */
export function evolve(state: ChangeSourcesState, record: ChangeRecord): ChangeSourcesState {
  return produceState(state, (draft) => applyRecord(draft, record))
}

/**
 * Runs `recipe` on an immer draft of `state` and returns the next state, frozen throughout (or
 * `state` itself when the recipe changed nothing). `state` is frozen first if it is not yet, and is
 * left as it was. The write path decides and applies a whole batch in one recipe.
 */
export function produceState(state: ChangeSourcesState, recipe: (draft: ChangeSourcesState) => void): ChangeSourcesState {
  // immer freezes what it drafted; what the tries created inside the recipe is theirs to freeze.
  return immer.produce(freezeFresh(state), (draft) => freezingCreated(() => recipe(draft as ChangeSourcesState)))
}

/** Changes `state`, which must itself be writable: an immer draft, or replay's private, unfrozen state. */
export function applyRecord(state: ChangeSourcesState, record: ChangeRecord): void {
  const indexes = ownIndexes(state)
  switch (record.type) {
    case 'ChangeSourceRegistered': {
      const changeSource = changeSourceOf(record.changesourceid, record.name, null)
      trieSet(own(indexes, 'byId'), changeSource.id, changeSource)
      trieSet(own(indexes, 'unclaimed'), changeSource.id, changeSource)
      const buckets = own(indexes, 'idsByNameBucket')
      const bucketKey = nameBucket(record.name)
      const bucket = trieGet(buckets, bucketKey)
      if (bucket === undefined) trieSet(buckets, bucketKey, changeSource.id)
      else {
        const byId = indexes.byId
        const grown = bucketWith(bucket, changeSource.id, (id) => trieGet(byId, id)!.name)
        if (grown !== bucket) trieSet(buckets, bucketKey, grown)
      }
      if (changeSource.id >= state.nextId) state.nextId = changeSource.id + 1
      break
    }
    case 'MasterClaimed': {
      const byId = own(indexes, 'byId')
      const previous = trieGet(byId, record.changesourceid)!
      const changeSource = changeSourceOf(previous.id, previous.name, record.masterid)
      trieSet(byId, changeSource.id, changeSource)
      trieDelete(own(indexes, 'unclaimed'), changeSource.id)
      const byMaster = own(indexes, 'byMaster')
      const existing = trieGet(byMaster, record.masterid)
      const held = existing === undefined ? emptyTrie<ChangeSource>() : writable(existing)
      if (held !== existing) trieSet(byMaster, record.masterid, held)
      trieSet(held, changeSource.id, changeSource)
      const leaseMs = record.leaseMs ?? null
      trieSet(own(indexes, 'claims'), changeSource.id, Object.freeze({ changesourceid: changeSource.id, masterid: record.masterid, token: record.seq, since: record.timestamp, leaseMs }))
      if (leaseMs !== null) {
        const holders = own(indexes, 'leaseHolders')
        const holder = trieGet(holders, record.masterid)
        trieSet(holders, record.masterid, leaseHolderOf(record.masterid, holder?.renewedAt ?? 0, (holder?.leased ?? 0) + 1))
      }
      break
    }
    case 'MasterReleased': {
      const byId = own(indexes, 'byId')
      const previous = trieGet(byId, record.changesourceid)!
      const changeSource = changeSourceOf(previous.id, previous.name, null)
      trieSet(byId, changeSource.id, changeSource)
      trieSet(own(indexes, 'unclaimed'), changeSource.id, changeSource)
      const byMaster = own(indexes, 'byMaster')
      const existing = trieGet(byMaster, record.masterid)
      if (existing !== undefined) {
        const held = writable(existing)
        if (held !== existing) trieSet(byMaster, record.masterid, held)
        trieDelete(held, changeSource.id)
        if (held.size === 0) trieDelete(byMaster, record.masterid)
      }
      const claims = own(indexes, 'claims')
      const claim = trieGet(claims, changeSource.id)
      trieDelete(claims, changeSource.id)
      if (claim?.leaseMs != null) {
        const holders = own(indexes, 'leaseHolders')
        const holder = trieGet(holders, record.masterid)!
        // A master that holds no more leases leaves the index: it stays as small as the leases held.
        if (holder.leased <= 1) trieDelete(holders, record.masterid)
        else trieSet(holders, record.masterid, leaseHolderOf(record.masterid, holder.renewedAt, holder.leased - 1))
      }
      break
    }
    case 'LeasesRenewed': {
      const holders = own(indexes, 'leaseHolders')
      const holder = trieGet(holders, record.masterid)!
      // Clocks of several writers may disagree: a renewal never moves a deadline back.
      trieSet(holders, record.masterid, leaseHolderOf(record.masterid, Math.max(holder.renewedAt, record.timestamp), holder.leased))
      break
    }
  }
  state.seq = record.seq
  state.hash = record.hash
}

/**
 * `state.indexes`, writable, put back in the state only when it had to be copied: on a draft, each
 * read and write of a field is a proxy trap, so a batch of records reads it through the draft once
 * per record and writes it once per batch; the tries inside are plain fields.
 */
function ownIndexes(state: ChangeSourcesState): Indexes {
  const current = state.indexes
  if (!Object.isFrozen(current)) return current
  const mine = created(new Indexes(current.byId, current.idsByNameBucket, current.unclaimed, current.byMaster, current.claims, current.leaseHolders))
  state.indexes = mine
  return mine
}

type TrieField = 'byId' | 'idsByNameBucket' | 'unclaimed' | 'byMaster' | 'claims' | 'leaseHolders'

/** `indexes[field]` (indexes being writable), writable, put back only when it had to be copied. */
function own<F extends TrieField>(indexes: Indexes, field: F): Indexes[F] {
  const current = indexes[field]
  const mine = writable(current)
  if (mine !== current) indexes[field] = mine
  return mine
}

function leaseHolderOf(masterid: number, renewedAt: number, leased: number): LeaseHolder {
  return Object.freeze({ masterid, renewedAt, leased })
}

function changeSourceOf(id: number, name: string, masterid: number | null): ChangeSource {
  return Object.freeze({ id, name, masterid })
}

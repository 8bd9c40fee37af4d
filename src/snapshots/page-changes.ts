/**
 * What changed since a snapshot, for the next one to rewrite (snapshot.ts): the rows pages and
 * name pages that registrations added to, and the claims pages whose claims now differ.
 *
 * Claims are tracked by change source, not by page: a claims page is rewritten only when one of
 * its change sources was held at the snapshot (a release ended that claim: whatever holds it now
 * holds it by another claim, with another token) or is held now by a claim made since. Claims
 * that come and go between two snapshots leave nothing to rewrite; tracked by page, claim-release
 * cycles scattered over the ids would re-encode every claims page at every snapshot
 * (docs/benchmarks.md). Renewals change the lease holders alone, which the head holds whole.
 */
import type { ChangeRecord } from '../domain/events.js'
import { trieGet } from '../domain/id-trie.js'
import { nameBucket, type ChangeSourcesState } from '../domain/projection.js'
import { claimsPartName, namePageKey, pageOf, rowsPartName } from './snapshot.js'

/**
 * Change sources tracked one by one, at most: past it, claims pages are taken as changed by page,
 * so that a long tail folded on open (a log written without snapshots) costs a set of pages, not
 * an entry per change source.
 */
export const MOST_TRACKED_CHANGE_SOURCES = 16_384

export class PageChanges {
  /** Rows parts and name pages (namePageKey) that registrations changed, and claims parts taken as changed by page. */
  readonly #pages = new Set<string>()
  /** Change source → whether it was held at the snapshot, for those claimed or released since. */
  readonly #heldBefore = new Map<number, boolean>()
  #claimsByPage = false

  /** Notes what `record`, folded after the snapshot and after the records noted before it, changes. */
  record(record: ChangeRecord): void {
    if (record.type === 'ChangeSourceRegistered') {
      this.#pages.add(rowsPartName(pageOf(record.changesourceid)))
      this.#pages.add(namePageKey(pageOf(nameBucket(record.name))))
      return
    }
    if (record.type === 'LeasesRenewed') return
    if (this.#claimsByPage) {
      this.#pages.add(claimsPartName(pageOf(record.changesourceid)))
      return
    }
    if (this.#heldBefore.has(record.changesourceid)) return
    // Only a change source nobody holds is claimed (decide.ts): the first record of a change source
    // after the snapshot tells whether it was held at the snapshot.
    this.#heldBefore.set(record.changesourceid, record.type === 'MasterReleased')
    if (this.#heldBefore.size > MOST_TRACKED_CHANGE_SOURCES) this.#trackClaimsByPage()
  }

  /**
   * These changes followed by `later`'s (noted from the state these end at): one set, as of the
   * snapshot these start from.
   */
  followedBy(later: PageChanges): PageChanges {
    const both = new PageChanges()
    for (const changes of [this, later]) {
      for (const page of changes.#pages) both.#pages.add(page)
      // What was held at this snapshot: a change source that `later` notes too was held, at the state
      // `later` starts from, as at the end of these, which says nothing of before.
      for (const [id, holder] of changes.#heldBefore) if (!both.#heldBefore.has(id)) both.#heldBefore.set(id, holder)
      if (changes.#claimsByPage) both.#claimsByPage = true
    }
    if (both.#claimsByPage || both.#heldBefore.size > MOST_TRACKED_CHANGE_SOURCES) both.#trackClaimsByPage()
    return both
  }

  /**
   * The parts and name pages to rewrite for a snapshot of `state`, the state these changes end at
   * (encodeSnapshot's `dirty`): the claims pages of the change sources noted that were held at the
   * snapshot, or are held in `state`.
   */
  dirtyIn(state: ChangeSourcesState): Set<string> {
    const dirty = new Set(this.#pages)
    for (const [id, heldBefore] of this.#heldBefore) {
      if (heldBefore || trieGet(state.indexes.claims, id) !== undefined) dirty.add(claimsPartName(pageOf(id)))
    }
    return dirty
  }

  #trackClaimsByPage(): void {
    for (const id of this.#heldBefore.keys()) this.#pages.add(claimsPartName(pageOf(id)))
    this.#heldBefore.clear()
    this.#claimsByPage = true
  }
}

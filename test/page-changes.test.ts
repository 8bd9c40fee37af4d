// What changed since a snapshot (page-changes.ts): registrations change their rows page and name
// page; claims and releases change a claims page only when a change source's claim differs from
// the snapshot's: one held then was released (a claim back has another token), or one is held now
// by a claim made since. Renewals change the head alone.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ChangeEvent } from '../src/domain/events.js'
import { evolve } from '../src/domain/evolve.js'
import { MOST_TRACKED_CHANGE_SOURCES, PageChanges } from '../src/snapshots/page-changes.js'
import { initialState, nameBucket, type ChangeSourcesState } from '../src/domain/projection.js'
import { stampEvent } from '../src/log/record-codec.js'
import { namePageKey, pageOf } from '../src/snapshots/snapshot.js'
import { claimed, claimedWithLease, registered, released, renewed, state } from './helpers/fixtures.js'

/** Pages 0 and 1 of change sources (ids 1 … 1500); the snapshot was taken with 2 held by master 7. */
const atSnapshot = state(...Array.from({ length: 1500 }, (_, index) => registered(index + 1, `source-${index + 1}`)), claimed(2, 7))

/** Folds `events` after `from`, noting them as the snapshotter does. */
function after(from: ChangeSourcesState, ...events: ChangeEvent[]): { changes: PageChanges; end: ChangeSourcesState } {
  const changes = new PageChanges()
  let end = from
  for (const event of events) {
    const record = stampEvent(event, end.seq + 1, 0, end.hash)
    end = evolve(end, record)
    changes.record(record)
  }
  return { changes, end }
}

const dirty = ({ changes, end }: { changes: PageChanges; end: ChangeSourcesState }): string[] => [...changes.dirtyIn(end)].sort()

const cases: Array<[string, ChangeEvent[], string[]]> = [
  ['nothing', [], []],
  ['a claim and its release', [claimed(1, 5), released(1, 5)], []],
  ['a claim with a lease, renewed, then released', [claimedWithLease(1, 5, 1000), renewed(5), renewed(5), released(1, 5)], []],
  ['claims and releases on page 1, all undone', [claimed(1500, 5), released(1500, 5), claimed(1400, 6), released(1400, 6, 'master-deactivated')], []],
  ['a claim kept', [claimed(1, 5)], ['claims!00000000']],
  ['a release kept', [released(2, 7)], ['claims!00000000']],
  ['a change source moved to another master', [released(2, 7), claimed(2, 8)], ['claims!00000000']],
  // The claim back is another claim: its token is its record's seq.
  ['a master that releases and claims back', [released(2, 7), claimed(2, 7)], ['claims!00000000']],
  ['claimed, released and claimed by another', [claimed(1, 5), released(1, 5), claimed(1, 6)], ['claims!00000000']],
  ['one kept on page 1, one undone on page 0', [claimed(1, 5), claimed(1500, 5), released(1, 5)], ['claims!00000001']],
  ['a registration', [registered(1501, 'source-1501')], [namePageKey(pageOf(nameBucket('source-1501'))), 'rows!00000001'].sort()],
]

for (const [name, events, expected] of cases) {
  test(`after ${name}: ${expected.length === 0 ? 'nothing to rewrite' : expected.join(', ')}`, () => {
    assert.equal(dirty(after(atSnapshot, ...events)), expected)
  })
}

test('changes followed by later ones are as of the first snapshot: a claim there and its release here undo each other', () => {
  const first = after(atSnapshot, claimed(1, 5), released(2, 7))
  const later = after(first.end, released(1, 5), claimed(2, 8))
  assert.equal(dirty(first), ['claims!00000000'])
  assert.equal(dirty(later), ['claims!00000000'], 'each alone changed page 0')
  assert.equal([...first.changes.followedBy(later.changes).dirtyIn(later.end)], ['claims!00000000'], 'change source 2 moved from 7 to 8')
  const undone = after(first.end, released(1, 5))
  assert.equal([...first.changes.followedBy(undone.changes).dirtyIn(undone.end)], ['claims!00000000'], 'change source 2 released')
  const backThere = after(atSnapshot, claimed(1, 5))
  const backHere = after(backThere.end, released(1, 5))
  assert.equal([...backThere.changes.followedBy(backHere.changes).dirtyIn(backHere.end)], [], 'the claim of change source 1 undone')
})

test(`past ${MOST_TRACKED_CHANGE_SOURCES.toLocaleString('en')} change sources, claims pages are taken as changed by page, undone or not`, () => {
  const changes = new PageChanges()
  let seq = 0
  const note = (event: ChangeEvent) => changes.record(stampEvent(event, ++seq, 0, 'x'.repeat(64)))
  const count = MOST_TRACKED_CHANGE_SOURCES + 1
  for (let id = 1; id <= count; id++) note(claimed(id, 5))
  for (let id = 1; id <= count; id++) note(released(id, 5))
  // Once more, after it: a change source not tracked before counts by its page as well.
  note(claimed(20_000, 5))
  note(released(20_000, 5))
  const pages = Array.from({ length: pageOf(count) + 1 }, (_, page) => page).concat(pageOf(20_000))
  assert.equal([...changes.dirtyIn(initialState())].sort(), pages.map((page) => `claims!${page.toString(16).padStart(8, '0')}`).sort())
})

test.run()

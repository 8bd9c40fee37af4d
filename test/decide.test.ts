// decide, the rules, without a database: given events, when a command, then events or an error.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChangeSourceAlreadyClaimedError, UnknownChangeSourceError } from '../src/errors.js'
import { claimed, given, registered, released } from './helpers/fixtures.js'

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

test.run()

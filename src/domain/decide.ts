/**
 * decide: the rules. A pure function of the current state and one command, giving the events to
 * append (possibly none) or the typed error that refuses the command. No I/O, no clock.
 */
import type { Command } from './commands.js'
import { ChangeSourceAlreadyClaimedError, UnknownChangeSourceError, type ChangeSourcesError } from '../errors.js'
import type { ChangeEvent } from './events.js'
import { findIdByName, getChangeSources, type ChangeSourcesState } from './projection.js'
import { trieGet } from './id-trie.js'

type Decision = readonly ChangeEvent[] | ChangeSourcesError

export function decide(state: ChangeSourcesState, command: Command): Decision {
  switch (command.type) {
    case 'RegisterChangeSource': {
      if (findIdByName(state, command.name) !== undefined) return []
      return [{ type: 'ChangeSourceRegistered', changesourceid: state.nextId, name: command.name }]
    }
    case 'ClaimChangeSource': {
      const changeSource = trieGet(state.indexes.byId, command.changesourceid)
      if (changeSource === undefined) return new UnknownChangeSourceError(command.changesourceid)
      // A re-claim by the holder is a no-op, as Buildbot's docs say (its SQL raises; see docs/buildbot-differences.md).
      if (changeSource.masterid === command.masterid) return []
      if (changeSource.masterid !== null) {
        return new ChangeSourceAlreadyClaimedError(changeSource.id, changeSource.name, changeSource.masterid, command.masterid)
      }
      return [{ type: 'MasterClaimed', changesourceid: changeSource.id, masterid: command.masterid }]
    }
    case 'ReleaseChangeSource': {
      const changeSource = trieGet(state.indexes.byId, command.changesourceid)
      if (changeSource === undefined) return new UnknownChangeSourceError(command.changesourceid)
      if (changeSource.masterid === null) return []
      return [{ type: 'MasterReleased', changesourceid: changeSource.id, masterid: changeSource.masterid, reason: 'released' }]
    }
    case 'DeactivateMaster':
      return getChangeSources(state, { masterid: command.masterid }).map((changeSource) => ({
        type: 'MasterReleased',
        changesourceid: changeSource.id,
        masterid: command.masterid,
        reason: 'master-deactivated',
      }))
  }
}

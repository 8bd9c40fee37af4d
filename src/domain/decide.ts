/**
 * decide: the rules. A pure function of the current state, one command and the batch's time,
 * giving the events to append (possibly none) or the typed error that refuses the command. No I/O;
 * the time is given (DecideContext), never read.
 */
import type { Command } from './commands.js'
import { ChangeSourceAlreadyClaimedError, ClaimLostError, UnknownChangeSourceError, type ChangeSourcesError } from '../errors.js'
import type { ChangeEvent, MasterReleased } from './events.js'
import { findIdByName, getChangeSources, type ChangeSourcesState, type HeldClaim } from './projection.js'
import { claimsOfMaster, expirable, expiresAtOf, lapsedForHolder, leasedClaims, type DecideContext } from './leases.js'
import { trieGet } from './id-trie.js'

type Decision = readonly ChangeEvent[] | ChangeSourcesError

export function decide(state: ChangeSourcesState, command: Command, context: DecideContext): Decision {
  switch (command.type) {
    case 'RegisterChangeSource': {
      if (findIdByName(state, command.name) !== undefined) return []
      return [{ type: 'ChangeSourceRegistered', changesourceid: state.nextId, name: command.name }]
    }
    case 'ClaimChangeSource': {
      const changeSource = trieGet(state.indexes.byId, command.changesourceid)
      if (changeSource === undefined) return new UnknownChangeSourceError(command.changesourceid)
      const claimed: ChangeEvent =
        command.leaseMs === undefined
          ? { type: 'MasterClaimed', changesourceid: changeSource.id, masterid: command.masterid }
          : { type: 'MasterClaimed', changesourceid: changeSource.id, masterid: command.masterid, leaseMs: command.leaseMs }
      const held = trieGet(state.indexes.claims, changeSource.id)
      if (held === undefined) return [claimed]
      if (held.masterid === command.masterid) {
        // A re-claim by the holder is a no-op, as Buildbot's docs say (its SQL raises; see
        // docs/buildbot-differences.md); a holder whose lease ran out holds nothing, and claims anew.
        return lapsedForHolder(state, held, context.now) ? [expiry(state, held), claimed] : []
      }
      if (expirable(state, held, context)) return [expiry(state, held), claimed]
      return new ChangeSourceAlreadyClaimedError(changeSource.id, changeSource.name, held.masterid, command.masterid)
    }
    case 'ReleaseChangeSource': {
      const changeSource = trieGet(state.indexes.byId, command.changesourceid)
      if (changeSource === undefined) return new UnknownChangeSourceError(command.changesourceid)
      const held = trieGet(state.indexes.claims, changeSource.id)
      if (command.token !== undefined) {
        const lost = lostClaim(state, changeSource.id, command.token, held, context)
        if (lost !== undefined) return lost
      }
      if (held === undefined) return []
      // A lease that ran out ended at its deadline, whoever releases it after: the log says so.
      if (expirable(state, held, context)) return [expiry(state, held)]
      return [{ type: 'MasterReleased', changesourceid: changeSource.id, masterid: held.masterid, reason: 'released' }]
    }
    case 'DeactivateMaster':
      return getChangeSources(state, { masterid: command.masterid }).map((changeSource) => ({
        type: 'MasterReleased',
        changesourceid: changeSource.id,
        masterid: command.masterid,
        reason: 'master-deactivated',
      }))
    case 'RenewLeases': {
      for (const { changesourceid, token } of command.claims ?? []) {
        if (trieGet(state.indexes.byId, changesourceid) === undefined) return new UnknownChangeSourceError(changesourceid)
        const held = trieGet(state.indexes.claims, changesourceid)
        const lost = lostClaim(state, changesourceid, token, held, context)
        if (lost !== undefined) return lost
        if (held!.masterid !== command.masterid) return new ClaimLostError(changesourceid, token, 'not-held', { masterid: held!.masterid, token: held!.token })
      }
      // The holder's own lapsed leases end first: a renewal extends only live ones (an invariant replay checks).
      const events: ChangeEvent[] = []
      let live = 0
      for (const held of claimsOfMaster(state, command.masterid)) {
        if (held.leaseMs === null) continue
        if (lapsedForHolder(state, held, context.now)) events.push(expiry(state, held))
        else live += 1
      }
      if (live > 0) events.push({ type: 'LeasesRenewed', masterid: command.masterid })
      return events
    }
    case 'ExpireLeases':
      return leasedClaims(state)
        .filter((held) => expirable(state, held, context))
        .sort((a, b) => a.changesourceid - b.changesourceid)
        .map((held) => expiry(state, held))
  }
}

/** The refusal of an owner-checked operation on the claim of `token`, or undefined when that claim is live. */
function lostClaim(state: ChangeSourcesState, changesourceid: number, token: number, held: HeldClaim | undefined, context: DecideContext): ClaimLostError | undefined {
  if (held === undefined || held.token !== token) {
    return new ClaimLostError(changesourceid, token, 'not-held', held === undefined ? null : { masterid: held.masterid, token: held.token })
  }
  if (lapsedForHolder(state, held, context.now)) return new ClaimLostError(changesourceid, token, 'lease-lapsed', { masterid: held.masterid, token: held.token })
  return undefined
}

function expiry(state: ChangeSourcesState, held: HeldClaim): MasterReleased {
  return { type: 'MasterReleased', changesourceid: held.changesourceid, masterid: held.masterid, reason: 'lease-expired', expiredAt: expiresAtOf(state, held)! }
}

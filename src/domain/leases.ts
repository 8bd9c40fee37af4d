/**
 * Leases: when a claim's lease runs out, and who may judge it so. Pure functions of the state and
 * a time; every time comes from the clock given at open (docs/leases.md).
 *
 * A lease lasts `leaseMs` from the later of its claim and its master's last renewal. Its holder
 * counts it lost at that deadline; any other writer may record its expiry only `maxClockSkewMs`
 * later, so that a lease is never taken from a holder whose clock is behind by up to that much.
 */
import { trieForEach, trieGet } from './id-trie.js'
import type { ChangeSourcesState, HeldClaim } from './projection.js'

/** A claim as the queries return it: a frozen plain object. */
export interface Claim extends HeldClaim {
  /** When the lease runs out for its holder (ms since the epoch), or null for a claim without a lease. */
  readonly expiresAt: number | null
}

/** What decide needs besides the state: the time of the batch and the skew the cluster's clocks may have. */
export interface DecideContext {
  readonly now: number
  readonly maxClockSkewMs: number
}

/** The deadline of a held claim's lease, or null when it has none. */
export function expiresAtOf(state: ChangeSourcesState, claim: HeldClaim): number | null {
  if (claim.leaseMs === null) return null
  const renewedAt = trieGet(state.indexes.leaseHolders, claim.masterid)?.renewedAt ?? 0
  return Math.max(claim.since, renewedAt) + claim.leaseMs
}

export function getClaim(state: ChangeSourcesState, changesourceid: number): Claim | null {
  const held = trieGet(state.indexes.claims, changesourceid)
  return held === undefined ? null : claimOf(state, held)
}

export function claimOf(state: ChangeSourcesState, held: HeldClaim): Claim {
  return Object.freeze({ ...held, expiresAt: expiresAtOf(state, held) })
}

/** True when the holder must count the claim lost: its lease has run out by `now`. */
export function lapsedForHolder(state: ChangeSourcesState, claim: HeldClaim, now: number): boolean {
  const expiresAt = expiresAtOf(state, claim)
  return expiresAt !== null && now >= expiresAt
}

/** True when any writer may record the claim's expiry: its lease ran out at least `maxClockSkewMs` ago. */
export function expirable(state: ChangeSourcesState, claim: HeldClaim, context: DecideContext): boolean {
  const expiresAt = expiresAtOf(state, claim)
  return expiresAt !== null && context.now >= expiresAt + context.maxClockSkewMs
}

/** The claims a master holds, in change source id order. */
export function claimsOfMaster(state: ChangeSourcesState, masterid: number): HeldClaim[] {
  const held = trieGet(state.indexes.byMaster, masterid)
  const result: HeldClaim[] = []
  if (held !== undefined) trieForEach(held, (changeSource) => void result.push(trieGet(state.indexes.claims, changeSource.id)!))
  return result
}

/** Every leased claim, by master id then change source id: only masters that hold leases are walked. */
export function leasedClaims(state: ChangeSourcesState): HeldClaim[] {
  const result: HeldClaim[] = []
  trieForEach(state.indexes.leaseHolders, ({ masterid }) => {
    for (const claim of claimsOfMaster(state, masterid)) if (claim.leaseMs !== null) result.push(claim)
  })
  return result
}

/** The earliest deadline among the leases of the claims given, or null when none has a lease. */
export function earliestExpiry(state: ChangeSourcesState, claims: readonly HeldClaim[]): number | null {
  let earliest: number | null = null
  for (const claim of claims) {
    const expiresAt = expiresAtOf(state, claim)
    if (expiresAt !== null && (earliest === null || expiresAt < earliest)) earliest = expiresAt
  }
  return earliest
}

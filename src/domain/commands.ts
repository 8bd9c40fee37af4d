/** What a caller asks for. Commands are validated before they are decided (validate.ts). */

export interface RegisterChangeSource {
  readonly type: 'RegisterChangeSource'
  readonly name: string
}

export interface ClaimChangeSource {
  readonly type: 'ClaimChangeSource'
  readonly changesourceid: number
  readonly masterid: number
  /** A lease of this length; absent for Buildbot's claim, which never expires. */
  readonly leaseMs?: number
}

export interface ReleaseChangeSource {
  readonly type: 'ReleaseChangeSource'
  readonly changesourceid: number
  /** Owner-checked: release only the claim of this token, or fail. Absent: Buildbot's release of whatever claim there is. */
  readonly token?: number
}

/** Renew every lease of a master; with `claims`, only if each of them is still a live claim of the master. */
export interface RenewLeases {
  readonly type: 'RenewLeases'
  readonly masterid: number
  readonly claims: ReadonlyArray<{ readonly changesourceid: number; readonly token: number }> | null
}

/** Record the expiry of every lease that has run out (the sweep). */
export interface ExpireLeases {
  readonly type: 'ExpireLeases'
}

export interface DeactivateMaster {
  readonly type: 'DeactivateMaster'
  readonly masterid: number
}

export type Command = RegisterChangeSource | ClaimChangeSource | ReleaseChangeSource | DeactivateMaster | RenewLeases | ExpireLeases

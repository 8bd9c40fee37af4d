/** What a caller asks for. Commands are validated before they are decided (validate.ts). */

export interface RegisterChangeSource {
  readonly type: 'RegisterChangeSource'
  readonly name: string
}

export interface ClaimChangeSource {
  readonly type: 'ClaimChangeSource'
  readonly changesourceid: number
  readonly masterid: number
}

export interface ReleaseChangeSource {
  readonly type: 'ReleaseChangeSource'
  readonly changesourceid: number
}

export interface DeactivateMaster {
  readonly type: 'DeactivateMaster'
  readonly masterid: number
}

export type Command = RegisterChangeSource | ClaimChangeSource | ReleaseChangeSource | DeactivateMaster

/**
 * Argument checks at the edge: every public method checks its arguments here before anything else
 * happens, and a bad one is an InvalidArgumentError naming the argument.
 */
import { InvalidArgumentError } from '../errors.js'
import type { ChangeSourcesFilter } from './projection.js'

export const MAX_NAME_BYTES = 64 * 1024

const ID = 'a positive safe integer'

export function checkId(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(argument, ID, value)
  }
  return value
}

export function checkMasterIdOrNull(argument: string, value: unknown): number | null {
  if (value === null) return null
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(argument, `${ID}, or null to release`, value)
  }
  return value
}

export const NAME_RULE = `a well-formed string of at most ${MAX_NAME_BYTES} bytes in UTF-8`

export function checkName(value: unknown): string {
  if (typeof value !== 'string' || !isAllowedName(value)) throw new InvalidArgumentError('name', NAME_RULE, value)
  return value
}

/**
 * Whether `name` is one the rules allow (NAME_RULE): what a command may register, and so all that a
 * record read back may hold (record-codec.ts), whoever wrote the log.
 */
export function isAllowedName(name: string): boolean {
  // Each UTF-16 code unit takes one to three bytes in UTF-8: a long string fails before it is
  // measured, and a short one needs no measuring.
  if (name.length > MAX_NAME_BYTES || !name.isWellFormed()) return false
  return name.length * 3 <= MAX_NAME_BYTES || Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES
}

export function checkFilter(value: unknown): ChangeSourcesFilter {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || isArrayOrRevoked(value)) {
    throw new InvalidArgumentError('filter', 'an object or undefined', value)
  }
  const { active, masterid } = readOwn(value, 'filter', ['active', 'masterid'])
  if (active !== undefined && typeof active !== 'boolean') {
    throw new InvalidArgumentError('filter.active', 'a boolean or undefined', active)
  }
  if (masterid !== undefined) checkId('filter.masterid', masterid)
  const filter: ChangeSourcesFilter = {}
  if (active !== undefined) filter.active = active as boolean
  if (masterid !== undefined) filter.masterid = masterid as number
  return filter
}

// Array.isArray throws on a revoked Proxy; such a value is no usable object either.
function isArrayOrRevoked(value: object): boolean {
  try {
    return Array.isArray(value)
  } catch {
    return true
  }
}

/**
 * Reads the named properties of a caller's object once each, so that a getter cannot answer one
 * thing to the check and another to the use; a getter that throws is an invalid argument.
 */
export function readOwn(value: object, argument: string, keys: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const key of keys) {
    try {
      result[key] = (value as Record<string, unknown>)[key]
    } catch (error) {
      throw new InvalidArgumentError(`${argument}.${key}`, 'readable', value, { cause: error })
    }
  }
  return result
}

/** The longest lease: what a timer can wait for (about 24.8 days). */
export const MAX_LEASE_MS = 2 ** 31 - 1

export const LEASE_RULE = `a whole number of milliseconds from 1 to ${MAX_LEASE_MS}`

export function isLeaseLength(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_LEASE_MS
}

/** The options of a claim: `{ leaseMs }` for a lease, or nothing for a claim that never expires. */
export function checkClaimOptions(value: unknown): number | null {
  if (value === undefined) return null
  if (typeof value !== 'object' || value === null || isArrayOrRevoked(value)) throw new InvalidArgumentError('options', 'an object or undefined', value)
  const { leaseMs } = readOwn(value, 'options', ['leaseMs'])
  if (leaseMs === undefined) return null
  if (!isLeaseLength(leaseMs)) throw new InvalidArgumentError('options.leaseMs', LEASE_RULE, leaseMs)
  return leaseMs
}

/** Claims named by change source and token, as a master holds them (a `Claim` will do); read once each. */
export function checkClaimRefs(argument: string, value: unknown): Array<{ changesourceid: number; token: number }> {
  if (!Array.isArray(value)) throw new InvalidArgumentError(argument, 'an array of { changesourceid, token }', value)
  return [...value].map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null) throw new InvalidArgumentError(`${argument}[${index}]`, 'an object { changesourceid, token }', item)
    const { changesourceid, token } = readOwn(item, `${argument}[${index}]`, ['changesourceid', 'token'])
    return { changesourceid: checkId(`${argument}[${index}].changesourceid`, changesourceid), token: checkId(`${argument}[${index}].token`, token) }
  })
}

/**
 * Argument checks at the edge: every public method checks its arguments here before anything else
 * happens, and a bad one is an InvalidArgumentError naming the argument.
 */
import { InvalidArgumentError } from './errors.js'
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

export function checkName(value: unknown): string {
  const expectation = `a well-formed string of at most ${MAX_NAME_BYTES} bytes in UTF-8`
  if (typeof value !== 'string') throw new InvalidArgumentError('name', expectation, value)
  // Each UTF-16 code unit takes at least one byte in UTF-8: a long string fails before it is measured.
  if (value.length > MAX_NAME_BYTES || !value.isWellFormed() || Buffer.byteLength(value, 'utf8') > MAX_NAME_BYTES) {
    throw new InvalidArgumentError('name', expectation, value)
  }
  return value
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

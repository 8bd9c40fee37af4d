import * as assert from 'uvu/assert'
import type { ErrorCode } from '../../src/index.js'

/**
 * Asserts that `action` rejects (or throws) with an error of ours carrying `code`, and, when given,
 * of `errorClass`. Returns the error for further checks.
 */
export async function rejectsWith<E extends Error = Error>(
  action: () => unknown,
  code: ErrorCode,
  errorClass?: abstract new (...args: never[]) => E,
): Promise<E> {
  let outcome: { error: unknown } | undefined
  try {
    await action()
  } catch (error) {
    outcome = { error }
  }
  if (outcome === undefined) assert.unreachable(`expected a rejection with ${code}, but it resolved`)
  const error = outcome!.error as E & { code?: unknown }
  assert.is(error?.code, code, `expected ${code}, got ${String(error?.code)}: ${String((error as Error)?.message ?? error)}`)
  if (errorClass !== undefined) assert.instance(error, errorClass as never)
  return error
}

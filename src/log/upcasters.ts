/**
 * Upcasters: how a record written in an older schema version is read by this code.
 *
 * Versions 1 and 2 are read as they are: version 2 added the lease shapes and left version 1's
 * unchanged (record-codec.ts), so the registry is empty. A shape that changes in a later version
 * gets an entry here for the version before it:
 *
 * - `canonicalEncoding(raw)`: the encoding that version hashed. A stored record is never rewritten,
 *   so its hash is checked against the encoding of the version it was written in, before any
 *   upcasting; the chain spans versions unchanged.
 * - `upcast(raw)`: the same fact in the shape of the next version. Upcasters chain: a record of
 *   version v goes through v → v+1 → … up to a version read as it is, each step the registered one.
 *
 * A version above SCHEMA_VERSION is an UnknownSchemaVersionError (written by a newer release); a
 * version below the ones read as they are with no upcaster is a CorruptLogError. See
 * docs/log-format.md, "Version policy".
 */
import { CorruptLogError } from '../errors.js'
import { BASE_SCHEMA_VERSION } from '../domain/events.js'
import { chainBreak } from './log-damage.js'
import { sha256 } from '../sha256.js'

/** A stored record as parsed from JSON, before its shape is checked. */
export type RawRecord = Record<string, unknown>

interface Upcaster {
  /** The canonical encoding the hash chain used for records of this version. */
  canonicalEncoding(raw: RawRecord): string
  /** The record in the shape of the next version; `seq` and `hash` carry over unchanged. */
  upcast(raw: RawRecord): RawRecord
}

const upcasters = new Map<number, Upcaster>()

/**
 * Registers the upcaster from `version` to `version + 1`; returns a function that removes it.
 * Internal: a new schema version registers its predecessor's upcaster in this file; tests use it
 * to inject a hypothetical older shape.
 */
export function registerUpcaster(version: number, upcaster: Upcaster): () => void {
  if (!Number.isSafeInteger(version) || version >= BASE_SCHEMA_VERSION) {
    throw new RangeError(`an upcaster is for a version below ${BASE_SCHEMA_VERSION}, not ${version}`)
  }
  upcasters.set(version, upcaster)
  return () => void upcasters.delete(version)
}

/** True when a record of `version` can be upcast to the current version. */
export function canUpcast(version: unknown): version is number {
  return typeof version === 'number' && upcasters.has(version)
}

/**
 * Checks `raw` (of an older `version`) against the chain in the encoding it was written in, then
 * upcasts it step by step to BASE_SCHEMA_VERSION. Throws a CorruptLogError naming `seq` when the chain
 * does not hold or a step is missing.
 */
export function upcastRecord(seq: number, raw: RawRecord, previousHash: string): RawRecord {
  let version = raw.version as number
  const first = upcasters.get(version)!
  let canonical: string
  try {
    canonical = first.canonicalEncoding(raw)
  } catch (error) {
    throw new CorruptLogError(seq, `the record does not have the shape of schema version ${version}`, { cause: error })
  }
  if (raw.hash !== sha256(previousHash + canonical)) {
    throw chainBreak(seq)
  }
  let current = raw
  while (version < BASE_SCHEMA_VERSION) {
    const step = upcasters.get(version)
    if (step === undefined) throw new CorruptLogError(seq, `no upcaster from schema version ${version}`)
    try {
      current = { ...step.upcast(current), seq: raw.seq, hash: raw.hash, version: version + 1 }
    } catch (error) {
      throw new CorruptLogError(seq, `the record of schema version ${version} could not be upcast`, { cause: error })
    }
    version += 1
  }
  return current
}

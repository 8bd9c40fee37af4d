/**
 * The stored form of a record: its JSON encoding, the hash chain, and the checks a record must pass
 * when it is read back. Part of the log format contract (docs/log-format.md).
 */
import { CorruptLogError, UnknownSchemaVersionError } from '../errors.js'
import { BASE_SCHEMA_VERSION, SCHEMA_VERSION, versionOf, type ChangeEvent, type ChangeRecord, type ReleaseReason } from '../domain/events.js'
import type { StoredEntry } from '../stores/log-store.js'
import { findIdByName, type ChangeSourcesState } from '../domain/projection.js'
import { trieGet } from '../domain/id-trie.js'
import { claimsOfMaster, expiresAtOf, lapsedForHolder } from '../domain/leases.js'
import { canUpcast, upcastRecord } from './upcasters.js'
import { chainBreak, missingRecord } from './log-damage.js'
import { sha256 } from '../sha256.js'
import { isAllowedName, isLeaseLength, LEASE_RULE, NAME_RULE } from '../domain/validate.js'

/** A record before its hash is known (Omit distributed over the union, so each type keeps its fields). */
type WithoutHash<R> = R extends unknown ? Omit<R, 'hash'> : never
type UnhashedRecord = WithoutHash<ChangeRecord>

/**
 * The encoding the chain hashes. Version 1: JSON.stringify([version, seq, timestamp, type,
 * changesourceid, name ?? null, masterid ?? null, reason ?? null]); version 2 (the lease shapes)
 * appends leaseMs ?? null and expiredAt ?? null, and has changesourceid null in a LeasesRenewed.
 * An array, so that it never depends on key order in the stored JSON, with only the fields of the
 * record's type: what decoding keeps of a stored record is what its hash covers, whether the record
 * was decoded first (decodeRecord) or is hashed as parsed (firstChainBreak, in the chain worker).
 * Built by concatenation, which gives the same string (numbers here are finite, where JSON and
 * String() agree, and type and reason are fixed words) at a third of the cost: it runs for every
 * record written and every record replayed.
 */
export function canonicalEncoding(record: UnhashedRecord): string {
  if (record.version === SCHEMA_VERSION) return leaseEncoding(record)
  const head = `[${record.version},${record.seq},${record.timestamp},"${record.type}",${(record as { changesourceid?: number }).changesourceid},`
  switch (record.type) {
    case 'ChangeSourceRegistered':
      return `${head}${JSON.stringify(record.name)},null,null]`
    case 'MasterClaimed':
      return `${head}null,${record.masterid},null]`
    case 'MasterReleased':
      return `${head}null,${record.masterid},"${record.reason}"]`
    default:
      // Not a record of a known type: decoding refuses it before any hash is compared.
      return `${head}null,null,null]`
  }
}

/** Version 2's encoding: version 1's fields, then leaseMs and expiredAt. */
function leaseEncoding(record: UnhashedRecord): string {
  const head = `[${record.version},${record.seq},${record.timestamp},"${record.type}",`
  switch (record.type) {
    case 'MasterClaimed':
      return `${head}${record.changesourceid},null,${record.masterid},null,${record.leaseMs ?? null},null]`
    case 'MasterReleased':
      return `${head}${record.changesourceid},null,${record.masterid},"${record.reason}",null,${record.expiredAt ?? null}]`
    case 'LeasesRenewed':
      return `${head}null,null,${record.masterid},null,null,null]`
    default:
      return `${head}null,null,null,null,null,null]`
  }
}

function chainHash(previousHash: string, record: UnhashedRecord): string {
  return sha256(previousHash + canonicalEncoding(record))
}

/** Places an event in the log: its seq, time, schema version and chained hash. The result is frozen. */
export function stampEvent(event: ChangeEvent, seq: number, timestamp: number, previousHash: string): ChangeRecord {
  const version = versionOf(event)
  // One literal per type rather than spreads: this runs once per record on the write path.
  switch (event.type) {
    case 'ChangeSourceRegistered': {
      const { type, changesourceid, name } = event
      const hash = chainHash(previousHash, { seq, type, changesourceid, name, timestamp, version })
      return Object.freeze({ seq, type, changesourceid, name, timestamp, version, hash })
    }
    case 'MasterClaimed': {
      const { type, changesourceid, masterid, leaseMs } = event
      if (leaseMs === undefined) {
        const hash = chainHash(previousHash, { seq, type, changesourceid, masterid, timestamp, version })
        return Object.freeze({ seq, type, changesourceid, masterid, timestamp, version, hash })
      }
      const hash = chainHash(previousHash, { seq, type, changesourceid, masterid, leaseMs, timestamp, version })
      return Object.freeze({ seq, type, changesourceid, masterid, leaseMs, timestamp, version, hash })
    }
    case 'MasterReleased': {
      const { type, changesourceid, masterid, reason, expiredAt } = event
      if (expiredAt === undefined) {
        const hash = chainHash(previousHash, { seq, type, changesourceid, masterid, reason, timestamp, version })
        return Object.freeze({ seq, type, changesourceid, masterid, reason, timestamp, version, hash })
      }
      const hash = chainHash(previousHash, { seq, type, changesourceid, masterid, reason, expiredAt, timestamp, version })
      return Object.freeze({ seq, type, changesourceid, masterid, reason, expiredAt, timestamp, version, hash })
    }
    case 'LeasesRenewed': {
      const { type, masterid } = event
      const hash = chainHash(previousHash, { seq, type, masterid, timestamp, version })
      return Object.freeze({ seq, type, masterid, timestamp, version, hash })
    }
  }
}

/**
 * The stored JSON of a record: what JSON.stringify gives for a record made by stampEvent (its field
 * order; numbers finite, where JSON and String() agree; type and reason fixed words, the hash hex),
 * built by concatenation, which is much cheaper on the write path. A test holds the two equal for
 * any record.
 */
export function encodeRecord(record: ChangeRecord): string {
  const tail = `"timestamp":${record.timestamp},"version":${record.version},"hash":"${record.hash}"}`
  if (record.type === 'LeasesRenewed') return `{"seq":${record.seq},"type":"LeasesRenewed","masterid":${record.masterid},${tail}`
  const head = `{"seq":${record.seq},"type":"${record.type}","changesourceid":${record.changesourceid},`
  switch (record.type) {
    case 'ChangeSourceRegistered':
      return `${head}"name":${JSON.stringify(record.name)},${tail}`
    case 'MasterClaimed':
      return record.leaseMs === undefined ? `${head}"masterid":${record.masterid},${tail}` : `${head}"masterid":${record.masterid},"leaseMs":${record.leaseMs},${tail}`
    case 'MasterReleased':
      return record.expiredAt === undefined
        ? `${head}"masterid":${record.masterid},"reason":"${record.reason}",${tail}`
        : `${head}"masterid":${record.masterid},"reason":"${record.reason}","expiredAt":${record.expiredAt},${tail}`
  }
}

/**
 * Reads back the record stored at `seq`: it must parse, have the shape of its type and version,
 * carry its own seq, and chain to `previousHash`. Anything else is a CorruptLogError naming the seq.
 * With `chainCheckedElsewhere`, a record of the current version is not hashed here: the caller has
 * handed the check to `firstChainBreak` (chain-verifier.ts runs it off the main thread).
 */
export function decodeRecord(seq: number, stored: string, previousHash: string, chainCheckedElsewhere = false): ChangeRecord {
  let parsed: unknown
  try {
    parsed = JSON.parse(stored)
  } catch (error) {
    throw new CorruptLogError(seq, 'the record is not valid JSON', { cause: error })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CorruptLogError(seq, 'the record is not a JSON object')
  }
  let raw = parsed as Record<string, unknown>
  const version = raw.version
  if (typeof version === 'number' && Number.isSafeInteger(version) && version > SCHEMA_VERSION) {
    throw new UnknownSchemaVersionError(seq, version)
  }
  // An older version with a registered upcaster is chain-checked in its own encoding, then upcast (upcasters.ts).
  const upcast = !isReadableVersion(version) && canUpcast(version)
  if (!isReadableVersion(version) && !upcast) throw new CorruptLogError(seq, `the record has no valid schema version (${String(version)})`)
  if (raw.seq !== seq) throw new CorruptLogError(seq, `the record says it is seq ${String(raw.seq)}`)
  if (upcast) raw = upcastRecord(seq, raw, previousHash)
  const record = shapeOf(seq, raw)
  if (!upcast && !chainCheckedElsewhere && record.hash !== chainHash(previousHash, record)) throw chainBreak(seq)
  return record
}

/**
 * The index of the first of `stored` (consecutive records, the first chaining to `previousHash`)
 * whose record is of the current version and does not chain to the one before it; -1 when there
 * is none. A record that does not parse ends the check (its decoding fails where it is folded),
 * and one of another version is left to decodeRecord, which checks it in its own encoding.
 */
export function firstChainBreak(previousHash: string, stored: readonly string[]): number {
  let previous = previousHash
  for (let index = 0; index < stored.length; index++) {
    let raw: UnhashedRecord & { hash?: unknown }
    try {
      raw = JSON.parse(stored[index]!) as UnhashedRecord & { hash?: unknown }
    } catch {
      return -1
    }
    if (typeof raw !== 'object' || raw === null) return -1
    if (isReadableVersion(raw.version) && raw.hash !== chainHash(previous, raw)) return index
    if (typeof raw.hash !== 'string') return -1
    previous = raw.hash
  }
  return -1
}

/** Versions 1 and 2 are read as they are (version 2 only adds shapes); older ones need an upcaster. */
function isReadableVersion(version: unknown): version is number {
  return version === BASE_SCHEMA_VERSION || version === SCHEMA_VERSION
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

function shapeOf(seq: number, raw: Record<string, unknown>): ChangeRecord {
  const { type, changesourceid, timestamp, hash } = raw
  const fail = (problem: string): never => {
    throw new CorruptLogError(seq, problem)
  }
  if (type !== 'LeasesRenewed' && !isId(changesourceid)) fail('changesourceid is not a positive integer')
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) fail('timestamp is not a number')
  // Only the length here: a hash of 64 other characters fails the chain check below.
  if (typeof hash !== 'string' || hash.length !== 64) fail('hash is not 64 hex digits')
  // An upcast record arrives at the newest version; one read as it is keeps its own.
  const version = raw.version as number
  // One literal per type, fields in the order stampEvent gives them: records read back share the
  // shape of records written, and no intermediate object is made (this runs per record on open).
  const id = changesourceid as number
  const time = timestamp as number
  const link = hash as string
  let record: ChangeRecord
  switch (type) {
    case 'ChangeSourceRegistered': {
      const name = raw.name
      if (typeof name !== 'string') fail('name is not a string')
      // A name no command could register (one a lookup would then never find), however it came in.
      if (!isAllowedName(name as string)) fail(`name is not ${NAME_RULE}`)
      record = Object.freeze({ seq, type, changesourceid: id, name: name as string, timestamp: time, version, hash: link })
      break
    }
    case 'MasterClaimed': {
      const { masterid, leaseMs } = raw
      if (!isId(masterid)) fail('masterid is not a positive integer')
      if (leaseMs === undefined) {
        record = Object.freeze({ seq, type, changesourceid: id, masterid: masterid as number, timestamp: time, version, hash: link })
        break
      }
      if (!isLeaseLength(leaseMs)) fail(`leaseMs is not ${LEASE_RULE}`)
      record = Object.freeze({ seq, type, changesourceid: id, masterid: masterid as number, leaseMs: leaseMs as number, timestamp: time, version, hash: link })
      break
    }
    case 'MasterReleased': {
      const { masterid, reason, expiredAt } = raw
      if (!isId(masterid)) fail('masterid is not a positive integer')
      if (reason !== 'released' && reason !== 'master-deactivated' && reason !== 'lease-expired') fail('reason is not released, master-deactivated or lease-expired')
      const why = reason as ReleaseReason
      if (why !== 'lease-expired') {
        if (expiredAt !== undefined) fail('expiredAt is given for a release that is no expiry')
        record = Object.freeze({ seq, type, changesourceid: id, masterid: masterid as number, reason: why, timestamp: time, version, hash: link })
        break
      }
      if (typeof expiredAt !== 'number' || !Number.isFinite(expiredAt)) fail('expiredAt is not a number')
      record = Object.freeze({ seq, type, changesourceid: id, masterid: masterid as number, reason: why, expiredAt: expiredAt as number, timestamp: time, version, hash: link })
      break
    }
    case 'LeasesRenewed': {
      const { masterid } = raw
      if (!isId(masterid)) fail('masterid is not a positive integer')
      record = Object.freeze({ seq, type, masterid: masterid as number, timestamp: time, version, hash: link })
      break
    }
    default:
      return fail(`unknown record type ${JSON.stringify(type)}`)
  }
  // Each fact has one encoding: a lease shape at version 2, any other at version 1.
  if (version !== versionOf(record)) fail(`a ${record.type} record of this shape has schema version ${versionOf(record)}, not ${version}`)
  return record
}

/**
 * Why `record` cannot follow `state`, or undefined when it can. A log whose chain holds can still
 * have been written by something other than this package (an import, a hand edit that recomputed
 * the hashes); replaying it must not build a state that the rules could never reach.
 */
export function recordProblem(state: ChangeSourcesState, record: ChangeRecord): string | undefined {
  switch (record.type) {
    case 'ChangeSourceRegistered':
      if (record.changesourceid !== state.nextId) return `registers id ${record.changesourceid} where the next id is ${state.nextId}`
      if (findIdByName(state, record.name) !== undefined) return `registers a name that is already registered`
      return undefined
    case 'MasterClaimed': {
      const changeSource = trieGet(state.indexes.byId, record.changesourceid)
      if (changeSource === undefined) return `claims change source ${record.changesourceid}, which is not registered`
      if (changeSource.masterid !== null) return `claims change source ${record.changesourceid}, which master ${changeSource.masterid} holds`
      return undefined
    }
    case 'MasterReleased': {
      const changeSource = trieGet(state.indexes.byId, record.changesourceid)
      if (changeSource === undefined) return `releases change source ${record.changesourceid}, which is not registered`
      if (changeSource.masterid !== record.masterid) {
        return `releases change source ${record.changesourceid} from master ${record.masterid}, which does not hold it`
      }
      if (record.reason !== 'lease-expired') return undefined
      const expiresAt = expiresAtOf(state, trieGet(state.indexes.claims, record.changesourceid)!)
      if (expiresAt === null) return `records the expiry of a claim of change source ${record.changesourceid} that has no lease`
      if (record.expiredAt !== expiresAt) return `says the lease of change source ${record.changesourceid} expired at ${record.expiredAt}, where it ran until ${expiresAt}`
      if (record.timestamp < expiresAt) return `records the expiry of the lease of change source ${record.changesourceid} before its deadline (${expiresAt})`
      return undefined
    }
    case 'LeasesRenewed': {
      if (trieGet(state.indexes.leaseHolders, record.masterid) === undefined) return `renews the leases of master ${record.masterid}, which holds none`
      // A lapsed lease is lost to its holder: its expiry is recorded before any renewal.
      for (const claim of claimsOfMaster(state, record.masterid)) {
        if (lapsedForHolder(state, claim, record.timestamp)) return `renews the lease of change source ${claim.changesourceid} after it ran out`
      }
      return undefined
    }
  }
}

/**
 * Decodes the entry that should follow `state` and checks that it can: the next seq, readable,
 * chained, and possible under the rules. Otherwise a CorruptLogError naming the seq. Every fold of
 * the log (open, point in time, verify, import) reads through this.
 */
export function checkedRecord(state: ChangeSourcesState, entry: StoredEntry): ChangeRecord {
  const record = decodedNext(state, entry)
  const problem = recordProblem(state, record)
  if (problem !== undefined) throw new CorruptLogError(entry.seq, `the record ${problem}`)
  return record
}

/** checkedRecord's first half: the next seq, readable and (unless `chainCheckedElsewhere`) chained. */
export function decodedNext(state: ChangeSourcesState, entry: StoredEntry, chainCheckedElsewhere = false): ChangeRecord {
  const expected = state.seq + 1
  if (entry.seq !== expected) throw missingRecord(expected, entry.seq)
  return decodeRecord(entry.seq, entry.value, state.hash, chainCheckedElsewhere)
}

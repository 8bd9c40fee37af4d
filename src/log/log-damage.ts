/** The damage every reader of the log reports alike, worded once so that each names it the same way. */
import { CorruptLogError, ReadFailedError, UnknownSchemaVersionError, describe, isChangeSourcesError } from '../errors.js'

/** The record at `seq`, or the one before it, was changed: it does not carry the hash that chains it. */
export function chainBreak(seq: number): CorruptLogError {
  return new CorruptLogError(seq, 'the hash chain does not hold: the record or the one before it was changed')
}

/** No record is stored at `seq`: the next stored one is `nextStoredSeq`, or none when the log ends before it. */
export function missingRecord(seq: number, nextStoredSeq: number | undefined): CorruptLogError {
  const where = nextStoredSeq === undefined ? 'the log ends before it' : `the next stored record is seq ${nextStoredSeq}`
  return new CorruptLogError(seq, `the record is missing (${where})`)
}

/** What went wrong, without the seq: the report gives it, and a message that named it again would say it twice. */
export function problemOf(error: unknown): string {
  if (error instanceof CorruptLogError) return error.problem
  if (error instanceof UnknownSchemaVersionError) {
    return `the record has schema version ${describe(error.version)}, which this version of changesources cannot read`
  }
  return isChangeSourcesError(error) ? error.message : new ReadFailedError({ cause: error }).message
}

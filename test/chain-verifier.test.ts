// The hash chain checked in a worker thread beside the fold (chain-verifier.ts): the first break
// found across stretches, only up to the seq asked about, and the same answers when the worker is
// gone and the stretches are checked on the main thread.
import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChainVerifier } from '../src/log/chain-verifier.js'
import type { ChangeEvent } from '../src/domain/events.js'
import { GENESIS_HASH } from '../src/domain/projection.js'
import { decodeRecord, encodeRecord, firstChainBreak, stampEvent } from '../src/log/record-codec.js'

/** `count` stored records, chained from the genesis hash. */
function storedLog(count: number): string[] {
  const stored: string[] = []
  let hash = GENESIS_HASH
  for (let seq = 1; seq <= count; seq++) {
    const event: ChangeEvent = seq % 2 === 1 ? { type: 'ChangeSourceRegistered', changesourceid: seq, name: `source-${seq}` } : { type: 'MasterClaimed', changesourceid: seq - 1, masterid: 3 }
    const record = stampEvent(event, seq, 1_700_000_000_000 + seq, hash)
    hash = record.hash
    stored.push(encodeRecord(record))
  }
  return stored
}

/** The log with the record at `seq` changed (its timestamp), its own hash left as it was. */
function tampered(stored: readonly string[], seq: number): string[] {
  const copy = [...stored]
  copy[seq - 1] = copy[seq - 1]!.replace(/"timestamp":(\d+)/, (_, time: string) => `"timestamp":${Number(time) + 1}`)
  return copy
}

/** Submits `stored` in stretches of `size`, each chaining to the stored hash before it. */
async function submitAll(verifier: ChainVerifier, stored: readonly string[], size: number): Promise<void> {
  for (let first = 0; first < stored.length; first += size) {
    const previousHash = first === 0 ? GENESIS_HASH : (JSON.parse(stored[first - 1]!) as { hash: string }).hash
    await verifier.submit(first + 1, previousHash, stored.slice(first, first + size))
  }
}

test('firstChainBreak: -1 for an intact stretch, else the index of the first record that does not chain', () => {
  const stored = storedLog(50)
  assert.is(firstChainBreak(GENESIS_HASH, stored), -1)
  assert.is(firstChainBreak(GENESIS_HASH, tampered(stored, 17)), 16)
  assert.is(firstChainBreak('f'.repeat(64), stored), 0)
})

/** The first seq whose record fails to decode on the main thread (its chain included), as a single-threaded restore checks it. */
function firstDecodeFailure(stored: readonly string[]): number | undefined {
  let previous = GENESIS_HASH
  for (let index = 0; index < stored.length; index++) {
    try {
      previous = decodeRecord(index + 1, stored[index]!, previous).hash
    } catch {
      return index + 1
    }
  }
  return undefined
}

test('firstChainBreak hashes what decoding keeps: fields a record of its type does not have are ignored by both', () => {
  const log = storedLog(6)
  const claim = JSON.parse(log[3]!) as Record<string, unknown>
  // Extra fields, the hash left as stamped: decoding drops them, so the chain holds either way.
  const extrasIgnored = [...log]
  extrasIgnored[3] = JSON.stringify({ ...claim, name: 'x', reason: null, colour: 'blue' })
  // Extra fields that the stored hash covers (hashed as if a claim had a name): decoding drops
  // them, so the chain breaks either way.
  const previousHash = (JSON.parse(log[2]!) as { hash: string }).hash
  const coveringName = [claim.version, claim.seq, claim.timestamp, claim.type, claim.changesourceid, 'x', claim.masterid, null]
  const extrasHashed = [...log]
  extrasHashed[3] = JSON.stringify({ ...claim, name: 'x', hash: createHash('sha256').update(previousHash + JSON.stringify(coveringName)).digest('hex') })
  for (const [stored, expected] of [
    [extrasIgnored, undefined],
    [extrasHashed, 4],
  ] as const) {
    assert.is(firstDecodeFailure(stored), expected)
    const breakIndex = firstChainBreak(GENESIS_HASH, stored)
    assert.is(breakIndex === -1 ? undefined : breakIndex + 1, expected)
  }
})

for (const where of ['in the worker', 'on the main thread, the worker gone'] as const) {
  test(`the first break across stretches, up to the seq asked (${where})`, async () => {
    // 5,000 records in stretches of 64: more stretches than the worker may be behind on, so that
    // submitting waits for its answers on the way.
    const intact = storedLog(5_000)
    const broken = tampered(tampered(intact, 4_800), 40)
    for (const [log, upTo, expected] of [
      [intact, 5_000, undefined],
      [broken, 5_000, 40],
      [broken, 39, undefined],
      [tampered(intact, 4_800), 5_000, 4_800],
    ] as const) {
      const verifier = new ChainVerifier()
      // Closing first leaves every stretch unanswered: the fallback must find the same break.
      if (where !== 'in the worker') await verifier.close()
      await submitAll(verifier, log, 64)
      assert.is(await verifier.firstBreak(upTo), expected, `up to ${upTo}`)
      await verifier.close()
    }
  })
}

test.run()

/**
 * Names crafted to share one bucket of the name index (src/domain/projection.ts, `nameBucket`), as anyone
 * who controls names (configuration, hook payloads) could make them: the bench's crafted-names
 * row and the name index's tests use them.
 *
 * FNV-1a's state after each code unit depends, in its low 20 bits (the bucket), only on the low 20
 * bits of the state before it. So from any state a pair of blocks that lead to the same low 20
 * bits is found by the birthday bound (~1,300 tries), and k such pairs in a row give 2^k names
 * whose buckets are all equal.
 */

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
const LOW_20 = 0xfffff
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

function fnvStep(state: number, text: string): number {
  let hash = state
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, FNV_PRIME)
  }
  return hash
}

/** Two three-character blocks that take `state` to the same low 20 bits, and the state after the first. */
function collidingPair(state: number): { blocks: [string, string]; next: number } {
  const seen = new Map<number, string>()
  for (const a of ALPHABET) {
    for (const b of ALPHABET) {
      for (const c of ALPHABET) {
        const block = a + b + c
        const after = fnvStep(state, block)
        const other = seen.get(after & LOW_20)
        if (other !== undefined) return { blocks: [other, block], next: fnvStep(state, other) }
        seen.set(after & LOW_20, block)
      }
    }
  }
  throw new Error('no colliding pair of blocks: the alphabet is too small')
}

/** `count` distinct names, each `prefix` then blocks, all in one bucket of the name index. */
export function collidingNames(count: number, prefix = 'hook:'): string[] {
  const pairs: Array<[string, string]> = []
  let state = fnvStep(FNV_OFFSET, prefix)
  while (2 ** pairs.length < count) {
    const { blocks, next } = collidingPair(state)
    pairs.push(blocks)
    state = next
  }
  return Array.from({ length: count }, (_, index) => prefix + pairs.map((pair, bit) => pair[(index >>> bit) & 1]).join(''))
}

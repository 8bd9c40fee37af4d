/**
 * The mark drawn at the end of a claim bar, by why the claim ended. Every reason gets a mark: the
 * known ones their own, any other (a reason a later log version adds) one of the spare marks, given
 * in the order of the reasons' names so that one report always draws the same reason the same way.
 */

/** The ending of a claim still held at the end of the range. */
export const STILL_HELD = 'held'

const KNOWN_MARKS: Readonly<Record<string, string>> = {
  released: 'tick',
  'master-deactivated': 'cross',
  // Leases (issue 14): the master stopped renewing and its deadline passed.
  'lease-expired': 'hourglass',
  [STILL_HELD]: 'arrow',
}

const SPARE_MARKS = ['dot', 'square', 'triangle', 'star'] as const

/** The mark of each ending in `endings`; unknown endings share the spare marks in turn. */
export function endMarks(endings: Iterable<string>): Map<string, string> {
  const marks = new Map<string, string>()
  const unknown: string[] = []
  for (const ending of new Set(endings)) {
    const known = Object.hasOwn(KNOWN_MARKS, ending) ? KNOWN_MARKS[ending] : undefined
    if (known !== undefined) marks.set(ending, known)
    else unknown.push(ending)
  }
  unknown.sort().forEach((ending, index) => marks.set(ending, SPARE_MARKS[index % SPARE_MARKS.length]!))
  return marks
}

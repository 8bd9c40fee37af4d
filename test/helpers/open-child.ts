/**
 * A child process for test/locking.test.ts: opens the component on a location and, if that works,
 * registers a name. Prints one JSON line: {"id": …} or {"code": …} (the error's code).
 *
 *   node --import tsx test/helpers/open-child.ts <location> <name>
 */
import { ChangeSources } from '../../src/index.js'

const [location, name] = process.argv.slice(2)
try {
  const cs = await ChangeSources.open({ location: location! })
  const id = await cs.findChangeSourceId(name!)
  await cs.close()
  process.stdout.write(JSON.stringify({ id }) + '\n')
} catch (error) {
  process.stdout.write(JSON.stringify({ code: (error as { code?: unknown }).code ?? String(error) }) + '\n')
}

/**
 * The log the command-line tests audit, written through the API with a clock of its own:
 * 13:00 register poller:acme/app and poller:acme/lib; 14:00 master 13 claims both; 15:00 releases
 * the app; 16:00 master 13 is deactivated (the lib); 17:00 master 14 claims the app.
 */
import { ChangeSources } from '../../src/index.js'

export const T0 = Date.parse('2026-11-24T13:00:00Z')
export const HOUR = 3_600_000

export async function writeExampleLog(location: string, options: { snapshotEvery?: number } = {}): Promise<void> {
  let clock = T0
  const cs = await ChangeSources.open({ location, now: () => clock, ...options })
  const a = await cs.findChangeSourceId('poller:acme/app')
  const b = await cs.findChangeSourceId('poller:acme/lib')
  clock = T0 + HOUR
  await cs.setChangeSourceMaster(a, 13)
  await cs.setChangeSourceMaster(b, 13)
  clock = T0 + 2 * HOUR
  await cs.setChangeSourceMaster(a, null)
  clock = T0 + 3 * HOUR
  await cs.masterDeactivated(13)
  clock = T0 + 4 * HOUR
  await cs.setChangeSourceMaster(a, 14)
  await cs.close()
}

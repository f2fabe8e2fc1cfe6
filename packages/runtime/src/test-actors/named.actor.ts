// An actor that marks its thread's globalThis when its module is loaded, so a test can tell
// which threads imported it.
import { defineActor } from '../actor.ts';

export const LOADED = Symbol.for('lnkit.test.named-actor-loaded');
(globalThis as Record<symbol, unknown>)[LOADED] = true;

export default defineActor({
  name: 'named',
  create: () => ({ ping: (): 'pong' => 'pong' }),
});

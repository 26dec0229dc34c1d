/**
 * createClient's `engine` option: the engine's own options (openDatabase's:
 * limits, cache sizes, job intervals, time-outs…) as they travel to the
 * worker that opens the engine. Checked on the page, and again by every
 * host that receives them (the worker's open, the tabs hub's attach), by
 * the engine's resolveOptions.
 */
import { KalamError, OPTION_NAMES, resolveOptions, type OpenOptions } from '@kalamlite/engine';

/** The openDatabase options a client may set: every one that is plain data, except those createClient takes itself (name, storage, durability). */
export type EngineOptions = Omit<OpenOptions, 'name' | 'storage' | 'durability' | 'indexedDB' | 'segmentStore' | 'blobStore' | 'hostMetrics'>;

/** createClient's own options, not to be given inside `engine`. */
const CLIENT_OWN = ['name', 'storage', 'durability'];
/** Engine options that are functions or objects: they cannot cross to a worker. */
const LOCAL_ONLY = ['indexedDB', 'segmentStore', 'blobStore', 'hostMetrics'];

/** The option names `engine` accepts. */
export const ENGINE_OPTION_NAMES: readonly string[] = OPTION_NAMES.filter((n) => !CLIENT_OWN.includes(n) && !LOCAL_ONLY.includes(n));

const invalid = (message: string) => new KalamError('INVALID_OPTION', message);

/**
 * `engine` checked (undefined: none), as a plain copy to send: an unknown
 * name, one createClient takes itself, one that cannot cross to a worker,
 * or a value the engine refuses is an INVALID_OPTION naming the option.
 */
export function checkEngineOptions(engine: unknown): EngineOptions {
  if (engine === undefined || engine === null) return {};
  if (typeof engine !== 'object' || Array.isArray(engine)) {
    throw invalid(`engine must be an object of engine options, for example { maxTransactionRows: 500000 } (got ${Array.isArray(engine) ? 'an array' : typeof engine})`);
  }
  let given: [string, unknown][];
  try {
    given = Object.entries(engine);
  } catch {
    throw invalid('The engine options could not be read: pass a plain object, for example { maxTransactionRows: 500000 }');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of given) {
    if (value === undefined) continue;
    if (CLIENT_OWN.includes(key)) throw invalid(`Give ${key} as createClient()'s own option ({ ${key}: … }), not inside engine`);
    if (LOCAL_ONLY.includes(key)) {
      throw invalid(
        `The engine option ${key} cannot cross to a worker (it is a function or an object): open the database in this context with openDatabase({ ${key}, … }) and use createLocalClient(db)`,
      );
    }
    if (!ENGINE_OPTION_NAMES.includes(key)) throw invalid(`Unknown engine option '${key}'. Valid engine options: ${ENGINE_OPTION_NAMES.join(', ')}`);
    out[key] = value;
  }
  // The engine's own check of every value: INVALID_OPTION naming the option and what it accepts.
  resolveOptions({ storage: 'memory', ...out });
  return out as EngineOptions;
}

/**
 * Starting a worker without ever hanging. A worker that cannot start — its
 * script 404s, is not JavaScript or has a syntax error, a
 * Content-Security-Policy forbids it, the constructor throws — reports it
 * only through an `error` event (a plain Event that says nothing), or not at
 * all. So each start is watched until the worker's first answer: an `error`
 * or `messageerror` event first, or no answer within the start timeout,
 * fails it with WORKER_START_FAILED, and the message says which of those it
 * was and how to fix it (see `diagnose`).
 */
import { KalamError } from '@kalamlite/engine';

/** How long a worker may take to answer its first message, unless `startTimeoutMs` says otherwise. */
export const DEFAULT_START_TIMEOUT_MS = 10_000;
/** The longest delay setTimeout keeps. */
const MAX_START_TIMEOUT_MS = 2_147_483_647;
/** How long the diagnosis of a failed start may spend asking the server for the worker script. */
const PROBE_TIMEOUT_MS = 3000;

export type WorkerKind = 'SharedWorker' | 'Worker';

/** What is being started, for the messages. `url` is undefined for the bundled entry (its built URL is the bundler's). */
export interface StartInfo {
  kind: WorkerKind;
  url: string | undefined;
  timeoutMs: number;
}

/** What a start looks at besides the worker: the page (CSP violations), fetch (diagnosis), timers. Tests pass fakes. */
export interface StartEnv {
  /** Fires `securitypolicyviolation` (the page's document). */
  document?: EventTarget;
  fetch?: (url: string, init: { signal: AbortSignal; cache: 'no-store' }) => Promise<{ ok: boolean; status: number; headers: { get(name: string): string | null }; body?: { cancel(): Promise<void> } | null }>;
}

export function browserEnv(): StartEnv {
  const env: StartEnv = {};
  const document = (globalThis as { document?: EventTarget }).document;
  if (document !== undefined && typeof document.addEventListener === 'function') env.document = document;
  if (typeof globalThis.fetch === 'function') env.fetch = (url, init) => globalThis.fetch(url, init);
  return env;
}

/** `startTimeoutMs` as createClient takes it: milliseconds above 0 (default 10 s), or INVALID_OPTION. */
export function checkStartTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_START_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_START_TIMEOUT_MS) {
    throw new KalamError(
      'INVALID_OPTION',
      `startTimeoutMs must be a number of milliseconds above 0 and at most ${MAX_START_TIMEOUT_MS} (default ${DEFAULT_START_TIMEOUT_MS}), got ${describe(value)}.`,
    );
  }
  return value;
}

/**
 * `workerUrl` as createClient takes it: a string or URL, resolved against the
 * page's base URL, on the page's origin (browsers refuse worker scripts from
 * another origin), http(s) or blob:. Returns the absolute URL, or undefined
 * when not given (the bundled entry). INVALID_OPTION otherwise.
 */
export function checkWorkerUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = value instanceof URL ? value.href : value;
  if (typeof text !== 'string' || text.trim() === '') {
    throw new KalamError(
      'INVALID_OPTION',
      `workerUrl must be the URL (a string or URL) where kalamlite's worker script is served, e.g. '/assets/kalamlite-worker.js'; got ${describe(value)}.`,
    );
  }
  const base = pageBase();
  let url: URL;
  try {
    // Without a page (Node) a relative URL is only checked for its syntax.
    url = new URL(text, base ?? 'http://localhost/');
  } catch {
    throw new KalamError('INVALID_OPTION', `workerUrl '${text}' is not a valid URL.`);
  }
  if (!['http:', 'https:', 'blob:'].includes(url.protocol)) {
    throw new KalamError('INVALID_OPTION', `workerUrl must be an http(s) or blob: URL on this page's origin, got '${text}'.`);
  }
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (base !== undefined && origin !== undefined && origin !== 'null' && url.origin !== origin) {
    throw new KalamError(
      'INVALID_OPTION',
      `workerUrl must be on this page's origin (${origin}), got '${url.href}': browsers refuse worker scripts from another origin. Serve the worker script from this origin.`,
    );
  }
  return base === undefined ? text : url.href;
}

function pageBase(): string | undefined {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  return g.document?.baseURI ?? g.location?.href;
}

/** One worker start: see startWorker. */
export interface WorkerStart<W, T> {
  info: StartInfo;
  /** Constructs the worker (a throw is reported as WORKER_START_FAILED). */
  create(): W;
  /** What fires `error` or `messageerror` while it starts: real browser objects only (an adapter may not tell event types apart). */
  watch(worker: W): readonly EventTarget[];
  /** Whether an `error` event is this start's failure (all are, unless this says otherwise). */
  isStartError?(event: Event): boolean;
  /** The worker's first answer, which proves it runs kalamlite. Called right after create(). */
  answer(worker: W): Promise<T>;
  /** Frees a worker that failed to start. */
  discard(worker: W): void;
  /** Gives up quietly (nobody needs the worker any more): rejects with CLOSED, no diagnosis. */
  signal?: AbortSignal;
  env?: StartEnv;
}

/**
 * Starts a worker and waits for its first answer. Fails with
 * WORKER_START_FAILED when the constructor throws, when a watched target
 * fires `error` or `messageerror` before the answer, or when no answer comes
 * within `info.timeoutMs`; the worker is then discarded.
 */
export async function startWorker<W, T>(start: WorkerStart<W, T>): Promise<{ worker: W; answer: T }> {
  const { info, signal } = start;
  const env = start.env ?? browserEnv();
  // A CSP violation is reported on the page, from the constructor on.
  const violations: Violation[] = [];
  const onViolation = (event: Event) => {
    const { effectiveDirective: directive, blockedURI } = event as Event & { effectiveDirective?: string; blockedURI?: string };
    if (directive === 'worker-src' || directive === 'child-src') violations.push({ directive, blockedURI });
  };
  env.document?.addEventListener('securitypolicyviolation', onViolation);
  const targets: EventTarget[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopWatching = () => undefined as void;
  try {
    let worker: W;
    try {
      worker = start.create();
    } catch (e) {
      throw refused(info, e);
    }
    try {
      const failure = new Promise<never>((_, reject) => {
        const fail = (cause: 'error' | 'messageerror' | 'timeout') => () => {
          stopWatching();
          // Any violation report is in by the time the diagnosis has asked the server.
          diagnose(cause, info, violations, env).then(reject, reject);
        };
        const failed = fail('error');
        const onError = (event: Event) => {
          if (start.isStartError?.(event) !== false) failed();
        };
        const onMessageError = fail('messageerror');
        const onAbort = () => {
          stopWatching();
          reject(new KalamError('CLOSED', 'The worker start was abandoned: no client needs it any more.'));
        };
        for (const target of start.watch(worker)) {
          targets.push(target);
          target.addEventListener('error', onError);
          target.addEventListener('messageerror', onMessageError);
        }
        timer = setTimeout(fail('timeout'), info.timeoutMs);
        signal?.addEventListener('abort', onAbort);
        stopWatching = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          for (const target of targets) {
            target.removeEventListener('error', onError);
            target.removeEventListener('messageerror', onMessageError);
          }
        };
        if (signal?.aborted) onAbort();
      });
      const answered = start.answer(worker);
      answered.catch(() => undefined);
      return { worker, answer: await Promise.race([answered, failure]) };
    } catch (e) {
      start.discard(worker);
      throw e;
    }
  } finally {
    stopWatching();
    clearTimeout(timer);
    env.document?.removeEventListener('securitypolicyviolation', onViolation);
  }
}

/** A Content-Security-Policy violation reported on the page while the worker started. */
export interface Violation {
  directive: string;
  blockedURI?: string;
}

function what(info: StartInfo): string {
  return info.kind === 'SharedWorker' ? 'the database SharedWorker' : 'the database worker';
}

function startFailed(info: StartInfo, message: string): KalamError {
  return new KalamError('WORKER_START_FAILED', `Could not start ${what(info)}: ${message}`);
}

const SERVE_IT =
  "Serve kalamlite's worker entry (@kalamlite/worker's worker script, built as an ES module worker by the same build as the page) at that URL, or pass the URL where it is served as the workerUrl option.";
const BUNDLED =
  "Make sure your bundler emits @kalamlite/worker's worker entry as an ES module worker and your server serves it (a dev server must be allowed to serve the package's files, e.g. Vite's server.fs.allow), or serve it yourself and pass its URL as the workerUrl option.";
const CSP_FIX = "allow it in the page's policy with worker-src 'self' (add blob: if the worker script is served from a blob: URL).";

/** The constructor threw: no such constructor here, the origin or a policy refused the script, or a bad URL. */
function refused(info: StartInfo, e: unknown): KalamError {
  const name = e instanceof Error || (typeof e === 'object' && e !== null && 'name' in e) ? String((e as { name: unknown }).name) : '';
  const message = e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e) ? String((e as { message: unknown }).message) : String(e);
  if (name === 'ReferenceError' || (name === 'TypeError' && !/url/i.test(message))) {
    return startFailed(info, `this environment has no ${info.kind} (${message}). createClient() needs a browser page; in Node, open the engine yourself and use createLocalClient().`);
  }
  const at = info.url === undefined ? '' : ` from ${info.url}`;
  if (name === 'SecurityError') {
    return startFailed(
      info,
      `the browser refused to start it${at} (${message}). The worker script must come from the page's origin, and if a Content-Security-Policy applies, ${CSP_FIX}`,
    );
  }
  return startFailed(info, `the browser refused to start it${at} (${name === '' ? '' : `${name}: `}${message}).`);
}

/**
 * Why a start failed, as a KalamError saying how to fix it: a CSP violation
 * reported on the page; a message that could not be read; else, when the
 * script's URL is known, what the server answers for it (an HTTP error, not
 * JavaScript, or a script that loads — so it failed to run, or is not
 * kalamlite's).
 */
export async function diagnose(cause: 'error' | 'messageerror' | 'timeout', info: StartInfo, violations: readonly Violation[], env: StartEnv): Promise<KalamError> {
  const at = info.url === undefined ? '' : ` ${info.url}`;
  if (violations.length > 0) {
    const [{ directive, blockedURI }] = violations;
    const blocked = blockedURI !== undefined && blockedURI !== '' ? ` ${blockedURI}` : at;
    return startFailed(info, `the page's Content-Security-Policy blocked the worker script${blocked} (directive ${directive}): ${CSP_FIX}`);
  }
  if (cause === 'messageerror') {
    return startFailed(
      info,
      'a message from the worker could not be read (messageerror): the worker script is not the one of this page\'s build. Serve the worker entry of the same kalamlite build as the page (after a deploy, reload the page).',
    );
  }
  const probe = info.url === undefined ? undefined : await probeScript(info.url, env);
  const timedOut = `did not answer within ${info.timeoutMs} ms`;
  if (info.url === undefined || probe === undefined) {
    if (cause === 'timeout') {
      return startFailed(info, `it ${timedOut}. Its script may be failing to load or run (the browser console says why), or the device is slow: raise the startTimeoutMs option. ${info.url === undefined ? BUNDLED : SERVE_IT}`);
    }
    return startFailed(
      info,
      `its script${at} failed to load or to run (an HTTP error such as 404 or 403, a response that is not JavaScript, or a syntax error: the browser console says which). ${info.url === undefined ? BUNDLED : SERVE_IT}`,
    );
  }
  if (probe.kind === 'unreachable') {
    return startFailed(info, `the worker script at ${info.url} could not be fetched (${probe.detail}). Check that the URL is right and reachable from this page. ${SERVE_IT}`);
  }
  if (probe.kind === 'status') {
    return startFailed(info, `the worker script at ${info.url} could not be loaded (HTTP ${probe.detail}). ${SERVE_IT}`);
  }
  if (probe.kind === 'not-javascript') {
    return startFailed(
      info,
      `the worker script at ${info.url} is served as '${probe.detail}', not JavaScript: the server answers with something else there (often a single-page app's index.html for an unknown path). ${SERVE_IT}`,
    );
  }
  if (cause === 'timeout') {
    return startFailed(
      info,
      `the worker script at ${info.url} loads but ${timedOut}: it is not kalamlite's worker entry of this build, it fails while starting (the browser console says why), or the device is slow (raise the startTimeoutMs option).`,
    );
  }
  return startFailed(
    info,
    `the worker script at ${info.url} loads but failed to run: a syntax error, or a module it imports could not be loaded (the browser console shows the worker's error). It must be kalamlite's worker entry, built as an ES module worker by the same build as the page.`,
  );
}

type Probe = { kind: 'unreachable' | 'status' | 'not-javascript' | 'javascript'; detail: string };

/** What the server answers for the worker script: undefined when it cannot be asked. */
async function probeScript(url: string, env: StartEnv): Promise<Probe | undefined> {
  if (env.fetch === undefined || url.startsWith('blob:')) return undefined;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), PROBE_TIMEOUT_MS);
  try {
    const response = await env.fetch(url, { signal: abort.signal, cache: 'no-store' });
    response.body?.cancel().catch(() => undefined);
    if (!response.ok) return { kind: 'status', detail: String(response.status) };
    const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== '' && !/(?:java|ecma)script$/.test(type)) return { kind: 'not-javascript', detail: type };
    return { kind: 'javascript', detail: type };
  } catch (e) {
    return { kind: 'unreachable', detail: abort.signal.aborted ? `no answer within ${PROBE_TIMEOUT_MS} ms` : e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  return typeof value;
}

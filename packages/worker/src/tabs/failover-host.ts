/**
 * A KalamHost that survives its host: when the tab or worker hosting the
 * engine goes away, it connects to the next one (the next leader, or a new
 * SharedWorker), starts every open subscription again under its id there,
 * and lets the calls that were in flight fail with LEADER_CHANGED.
 *
 * A subscription resumes from the last `_seq` its client saw (`resumeFrom`,
 * passed as the live option `from`): the new host replays what was written
 * after it as one change set, beside the whole current result — nothing
 * missed, and the client leaves out what it already held — nothing seen
 * twice. Where that cannot be (no complete result yet, `lastRows`, or the
 * engine answers `resumed: false`) the client gets a fresh result, flagged.
 */
import { KalamError, type KalamErrorShape } from '@kalamlite/engine';
import type { KalamHost, LiveEvent } from '../protocol';
import { asKalamError } from '../transfer';
import type { Link } from './link';

export interface FailoverHost {
  host: KalamHost;
  /** Settles with the first connection: resolves once attached, rejects with its KalamError. */
  ready: Promise<void>;
  /** How many times a host was replaced. */
  readonly failovers: number;
}

type LiveArgs = Parameters<KalamHost['live']>;

export function leaderChanged(): KalamError {
  return new KalamError(
    'LEADER_CHANGED',
    'The tab or worker hosting the database went away before this call finished; it may or may not have been applied. Another tab now hosts the database: retry the call (make writes safe to repeat, e.g. with a primary key).',
  );
}

/**
 * `connect` makes a new link (it waits while no host is available);
 * `deliver` receives an error event for a subscription that cannot be
 * started again on the new host; `resumeFrom` says from which `_seq` a
 * subscription resumes there (see Connection.resumeFrom).
 */
export function createFailoverHost(
  connect: () => Promise<Link>,
  deliver: (events: readonly LiveEvent[]) => unknown,
  resumeFrom: (id: number) => bigint | undefined = () => undefined,
): FailoverHost {
  // Owner: this host; one entry per started subscription, removed on
  // unsubscribe, when it cannot be resumed, and on close. The host it runs
  // on bounds how many may be open.
  const subscriptions = new Map<number, LiveArgs>();
  // Owner: this host; one entry per open transaction, removed on commit,
  // rollback, close, and when a later call finds its host gone. At most
  // MAX_TRANSACTIONS (entries of gone hosts are dropped first).
  const transactions = new Map<string, Attachment>();
  let isClosed = false;
  let failovers = 0;

  let current: Promise<Attachment> = connect().then(watch);
  const ready = current.then(() => undefined);
  ready.catch(() => undefined); // createClient reports it

  function watch(link: Link): Attachment {
    const attachment: Attachment = { link, isGone: false, pending: new Set() };
    void link.gone.then(() => {
      attachment.isGone = true;
      const error = leaderChanged();
      for (const reject of attachment.pending) reject(error);
      attachment.pending.clear();
      if (isClosed) return;
      failovers++;
      void link.close().catch(() => undefined);
      current = reconnect();
      current.catch(() => undefined);
    });
    return attachment;
  }

  async function reconnect(): Promise<Attachment> {
    let attachment: Attachment;
    try {
      attachment = watch(await connect());
    } catch (e) {
      const error = asKalamError(e);
      fail([...subscriptions.keys()], error);
      subscriptions.clear();
      throw error;
    }
    const failed: number[] = [];
    const errors: KalamError[] = [];
    for (const [id, args] of subscriptions) {
      try {
        const resumed = resumeArgs(args, resumeFrom(id));
        await guard(attachment, (h) => h.live(...resumed));
      } catch (e) {
        failed.push(id);
        errors.push(asKalamError(e));
      }
    }
    for (let i = 0; i < failed.length; i++) {
      if (errors[i].code === 'LEADER_CHANGED') continue; // the next host resumes it
      subscriptions.delete(failed[i]);
      fail([failed[i]], errors[i]);
    }
    return attachment;
  }

  function fail(ids: readonly number[], error: KalamError): void {
    if (ids.length === 0) return;
    const shape: KalamErrorShape = error.position === undefined ? { code: error.code, message: error.message } : error.toJSON();
    deliver(ids.map((id): LiveEvent => ({ kind: 'error', id, error: shape })));
  }

  /** Runs `run` on the attachment's host; fails with LEADER_CHANGED if that host goes away first. */
  function guard<T>(attachment: Attachment, run: (host: KalamHost) => Promise<T>): Promise<T> {
    if (attachment.isGone) return Promise.reject(leaderChanged());
    return new Promise<T>((resolve, reject) => {
      attachment.pending.add(reject);
      run(attachment.link.host).then(resolve, reject).finally(() => attachment.pending.delete(reject));
    });
  }

  async function call<T>(run: (host: KalamHost, attachment: Attachment) => Promise<T>): Promise<T> {
    const attachment = await current;
    return guard(attachment, (h) => run(h, attachment));
  }

  async function inTransaction<T>(id: string, run: (host: KalamHost) => Promise<T>): Promise<T> {
    const attachment = transactions.get(id);
    if (attachment === undefined) return call(run); // unknown here: the host says so
    if (attachment.isGone) {
      transactions.delete(id);
      throw new KalamError(
        'LEADER_CHANGED',
        `Transaction ${id} was rolled back: the tab hosting the database went away before it committed. Start the transaction again.`,
      );
    }
    return guard(attachment, run);
  }

  const host: KalamHost = {
    execute: (session, sql, params, id) => call((h) => h.execute(session, sql, params, id)),
    query: (session, sql, params, id) => call((h) => h.query(session, sql, params, id)),
    queryArrow: (session, sql, params, id) => call((h) => h.queryArrow(session, sql, params, id)),
    insertMany: (session, table, rows, offset, id) => call((h) => h.insertMany(session, table, rows, offset, id)),
    // Through the same wait for the host as the call it cancels, so it follows that call there; a call on a host that went away has failed already.
    cancel: (id) => call((h) => h.cancel(id)).catch(ignoreLeaderChange),
    stats: () => call((h) => h.stats()),
    exportDatabase: (onProgress) => call((h) => h.exportDatabase(onProgress)),
    importDatabase: (file, onProgress) => call((h) => h.importDatabase(file, onProgress)),
    exportUserData: (session, onProgress) => call((h) => h.exportUserData(session, onProgress)),
    readFile: (session, ref, options) => call((h) => h.readFile(session, ref, options)),
    async live(...args) {
      await call((h) => h.live(...args));
      subscriptions.set(args[3], args);
    },
    async unsubscribe(id) {
      if (!subscriptions.delete(id)) return;
      const attachment = await current.catch(() => undefined);
      if (attachment !== undefined && !attachment.isGone) await guard(attachment, (h) => h.unsubscribe(id)).catch(ignoreLeaderChange);
    },
    begin: (session) =>
      call(async (h, attachment) => {
        const id = await h.begin(session);
        if (transactions.size >= MAX_TRANSACTIONS) {
          for (const [txId, a] of transactions) if (a.isGone) transactions.delete(txId);
        }
        transactions.set(id, attachment);
        return id;
      }),
    txExecute: (id, sql, params, call) => inTransaction(id, (h) => h.txExecute(id, sql, params, call)),
    txQuery: (id, sql, params, call) => inTransaction(id, (h) => h.txQuery(id, sql, params, call)),
    async commit(id) {
      try {
        await inTransaction(id, (h) => h.commit(id));
      } finally {
        transactions.delete(id);
      }
    },
    async rollback(id) {
      const attachment = transactions.get(id);
      transactions.delete(id);
      // A transaction whose host went away is rolled back already.
      if (attachment === undefined || attachment.isGone) return;
      await guard(attachment, (h) => h.rollback(id)).catch(ignoreLeaderChange);
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      subscriptions.clear();
      transactions.clear();
      const attachment = await current.catch(() => undefined);
      await attachment?.link.close();
    },
  };

  return {
    host,
    ready,
    get failovers() {
      return failovers;
    },
  };
}

/** Open transactions tracked per client (the host's own limit is lower). */
const MAX_TRANSACTIONS = 64;

interface Attachment {
  link: Link;
  isGone: boolean;
  /** Rejecters of calls in flight on this link; failed with LEADER_CHANGED when it goes. */
  pending: Set<(error: KalamError) => void>;
}

/**
 * The arguments that start a subscription again from `from`. Not with
 * `lastRows`: its window starts at the N-th newest row as of the start, so
 * it starts over (a fresh result).
 */
function resumeArgs(args: LiveArgs, from: bigint | undefined): LiveArgs {
  const options = args[4];
  if (from === undefined || options?.lastRows !== undefined) return args;
  return [args[0], args[1], args[2], args[3], { ...options, from }];
}

function ignoreLeaderChange(e: unknown): void {
  if (!(e instanceof KalamError && e.code === 'LEADER_CHANGED')) throw e;
}

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { expose, releaseProxy, transferHandlers, wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { KalamError, isKalamError } from '@kalamlite/engine';
import { deserializeThrown, installKalamErrorTransfer, serializeThrown } from './transfer';

installKalamErrorTransfer();

interface Thrower {
  kalam(): Promise<never>;
  plain(): Promise<never>;
  text(): never;
  fine(): Promise<bigint>;
}

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

/** A real Comlink pair over a Node MessageChannel: the page side of `thrower`. */
function connect(): Remote<Thrower> {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const thrower: Thrower = {
    async kalam() {
      throw new KalamError('PRIMARY_KEY_VIOLATION', "Duplicate primary key 'n1' in app.notes.", 17);
    },
    async plain() {
      throw new TypeError('x is not a function');
    },
    text() {
      throw 'just a string';
    },
    async fine() {
      return 2n ** 70n;
    },
  };
  expose(thrower, nodeEndpoint(port1));
  return wrap<Thrower>(nodeEndpoint(port2));
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('the KalamError transfer handler', () => {
  it('round-trips code, message and position through serialize and deserialize', () => {
    const shape = serializeThrown(new KalamError('PARSE_ERROR', 'Unexpected token FORM', 9));
    const structured = structuredClone(shape);
    const error = deserializeThrown(structured);
    expect(error).toBeInstanceOf(KalamError);
    expect(error.code).toBe('PARSE_ERROR');
    expect(error.message).toBe('Unexpected token FORM');
    expect(error.position).toBe(9);
  });

  it('serializes plain errors and other thrown values as INTERNAL KalamErrors', () => {
    const fromError = deserializeThrown(serializeThrown(new RangeError('boom')));
    expect(fromError.code).toBe('INTERNAL');
    expect(fromError.message).toContain('boom');
    const fromString = deserializeThrown(serializeThrown('odd'));
    expect(fromString.code).toBe('INTERNAL');
    expect(fromString.message).toContain('odd');
    expect(fromString.position).toBeUndefined();
  });

  it('replaces the handler Comlink registers for thrown values, once', () => {
    const installed = transferHandlers.get('throw');
    installKalamErrorTransfer();
    expect(transferHandlers.get('throw')).toBe(installed);
  });

  it('delivers a KalamError thrown behind a real Comlink pair as a KalamError instance', async () => {
    const remote = connect();
    const error = await caught(remote.kalam());
    expect(isKalamError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'PRIMARY_KEY_VIOLATION', message: "Duplicate primary key 'n1' in app.notes.", position: 17 });
    remote[releaseProxy]();
  });

  it('delivers plain errors and thrown strings behind a Comlink pair as INTERNAL KalamErrors', async () => {
    const remote = connect();
    const plain = await caught(remote.plain());
    expect(isKalamError(plain)).toBe(true);
    expect((plain as KalamError).code).toBe('INTERNAL');
    expect((plain as KalamError).message).toContain('x is not a function');
    const text = await caught(remote.text());
    expect((text as KalamError).code).toBe('INTERNAL');
    expect((text as KalamError).message).toContain('just a string');
    remote[releaseProxy]();
  });

  it('leaves successful results alone, bigints included', async () => {
    const remote = connect();
    expect(await remote.fine()).toBe(2n ** 70n);
    remote[releaseProxy]();
  });
});

import { describe, expect, it } from 'vitest';
import { openDatabase } from '../api/database';
import { KalamError } from '../core/errors';
import { isOpfsSupported, openOpfsStore } from './opfs';

describe("storage: 'opfs' where OPFS is missing", () => {
  it('is not supported in Node', () => {
    expect(isOpfsSupported()).toBe(false);
  });

  it("fails openDatabase with UNSUPPORTED, saying to use 'idb'", async () => {
    let error: unknown;
    try {
      await openDatabase({ storage: 'opfs', name: 'x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KalamError);
    expect((error as KalamError).code).toBe('UNSUPPORTED');
    expect((error as KalamError).message).toMatch(/storage: 'idb'/);
    await expect(openOpfsStore('x')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

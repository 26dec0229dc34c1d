import { IDBFactory } from 'fake-indexeddb';
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { checkClientFormat, checkStorageFormat } from './storage-format';

describe('checkStorageFormat', () => {
  it('records the format of a new database and accepts the same or a newer build later', async () => {
    const factory = new IDBFactory();
    await checkStorageFormat('db', 1, factory);
    await checkStorageFormat('db', 1, factory);
    await checkStorageFormat('db', 2, factory);
  });

  it('refuses a build older than the format the storage was written with, with VERSION_MISMATCH', async () => {
    const factory = new IDBFactory();
    await checkStorageFormat('db', 2, factory);
    await expect(checkStorageFormat('db', 1, factory)).rejects.toMatchObject({ code: 'VERSION_MISMATCH', message: expect.stringContaining('Reload this tab') });
    // The refusal wrote nothing: the newer build still opens it.
    await checkStorageFormat('db', 2, factory);
  });

  it('checks without recording when asked, so a waiting build does not change the stored format', async () => {
    const factory = new IDBFactory();
    await checkStorageFormat('db', 1, factory);
    await checkStorageFormat('db', 2, factory, false);
    await checkStorageFormat('db', 1, factory); // still format 1: the peek wrote nothing
    await checkStorageFormat('db', 3, factory);
    await expect(checkStorageFormat('db', 2, factory, false)).rejects.toMatchObject({ code: 'VERSION_MISMATCH' });
  });

  it('keeps formats per database name', async () => {
    const factory = new IDBFactory();
    await checkStorageFormat('new', 3, factory);
    await checkStorageFormat('old', 1, factory);
  });
});

describe('checkClientFormat', () => {
  it('accepts a client of the host’s format and refuses an older or a newer one, saying which side must reload', () => {
    expect(() => checkClientFormat(2, 2)).not.toThrow();
    expect(() => checkClientFormat(1, 2)).toThrow(/older version.*Reload this tab/);
    expect(() => checkClientFormat(3, 2)).toThrow(/Another tab .* older version/);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from './sha256';

describe('Sha256', () => {
  it('gives the FIPS 180-4 digests of the empty string and "abc"', () => {
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(new TextEncoder().encode('abc')).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('gives the same digest however the input is cut into pieces', () => {
    const data = new Uint8Array(5000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const expected = createHash('sha256').update(data).digest('hex');
    for (const cut of [1, 3, 55, 56, 63, 64, 65, 127, 1000, 5000]) {
      const h = new Sha256();
      for (let i = 0; i < data.length; i += cut) h.update(data.subarray(i, i + cut));
      expect(h.hex()).toBe(expected);
    }
    for (const n of [55, 56, 57, 63, 64, 119, 120]) expect(new Sha256().update(data.subarray(0, n)).hex()).toBe(createHash('sha256').update(data.subarray(0, n)).digest('hex'));
  });
});

import { expect } from 'chai';
import argon2 from 'argon2';
import { ARGON2_OPTIONS, PasswordBusyError, PasswordHasher } from '../../src/server/auth/passwords.js';

describe('PasswordHasher', function () {
  this.timeout(20_000);

  it('verifies its own argon2id hashes and rejects wrong passwords', async () => {
    const hasher = new PasswordHasher();
    const hash = await hasher.hash('correct horse');
    expect(hash.startsWith('$argon2id$')).to.equal(true);
    expect(await hasher.verify(hash, 'correct horse')).to.equal(true);
    expect(await hasher.verify(hash, 'wrong horse')).to.equal(false);
    expect(await hasher.verify(null, 'anything')).to.equal(false);
    expect(await hasher.verify('not a hash', 'anything')).to.equal(false);
  });

  it('asks for a rehash of weaker parameters only', async () => {
    const hasher = new PasswordHasher();
    const weak = await argon2.hash('pw', { ...ARGON2_OPTIONS, memoryCost: 4096, timeCost: 2 });
    expect(hasher.needsRehash(weak)).to.equal(true);
    expect(hasher.needsRehash(await hasher.hash('pw'))).to.equal(false);
  });

  it('caps concurrent hashing: beyond the queue it fails fast with PasswordBusyError', async () => {
    const hasher = new PasswordHasher({ concurrency: 1, maxQueued: 2 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => hasher.hash('pw')));
    const busy = results.filter((r) => r.status === 'rejected' && r.reason instanceof PasswordBusyError);
    expect(results.filter((r) => r.status === 'fulfilled').length).to.be.within(2, 3);
    expect(busy.length).to.be.within(3, 4);
  });
});

// Real argon2 hashers with handles for tests: one that counts its checks, one whose slots a test can hold.
import { PasswordHasher } from '../../src/server/auth/passwords.js';

/** CountingHasher — the real argon2 hasher, counting how many passwords it was asked to check. */
export class CountingHasher extends PasswordHasher {
  verifications = 0;
  override verify(hash: string | null, password: string): Promise<boolean> {
    this.verifications++;
    return super.verify(hash, password);
  }
}

/** HeldHasher — the real hasher with a way to keep its slots busy, to fill the queue on purpose. */
export class HeldHasher extends PasswordHasher {
  /** hold — occupies one slot until the returned function is called (it resolves once the slot is free). */
  hold(): () => Promise<void> {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = this.run(() => gate);
    return async () => {
      open();
      await held;
    };
  }
}

// Settings an admin changes while Hearth runs, kept in Redis so every instance sees them at once.
import type { Config } from '../config.js';
import type { RedisClient } from './redis.js';

/** RegistrationMode — who may create an account: anyone, nobody, or only people with an invite link. */
export type RegistrationMode = Config['registration'];

/** REGISTRATION_MODES — every mode, in the order the Admin page offers them. */
export const REGISTRATION_MODES: readonly RegistrationMode[] = ['open', 'closed', 'invite'];

const REGISTRATION_KEY = 'settings:registration';

const isMode = (v: unknown): v is RegistrationMode => REGISTRATION_MODES.includes(v as RegistrationMode);

/** SettingsStore — live settings; `initial` (from the environment) holds until an admin changes one. */
export class SettingsStore {
  constructor(private readonly redis: RedisClient, private readonly initial: { registration: RegistrationMode }) {}

  /** registration — the current mode (read on every request: no instance may keep a stale copy). */
  async registration(): Promise<RegistrationMode> {
    const stored = await this.redis.get(REGISTRATION_KEY);
    return isMode(stored) ? stored : this.initial.registration;
  }

  /** setRegistration — false when `mode` is not a mode (the value came from a form). */
  async setRegistration(mode: unknown): Promise<boolean> {
    if (!isMode(mode)) return false;
    await this.redis.set(REGISTRATION_KEY, mode);
    return true;
  }
}

// Waiting for a seat in a full room: watches the live `lobby` updates for this room's count.
import { followLobby } from '../../shared/lib/lobby-feed.js';
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import type { LiveRoom } from '../../../shared/protocol.js';

/**
 * SeatWatcher — remembers the latest lobby snapshot, so a seat that is already free is seen at
 * once; a room missing from `rooms` has nobody in it.
 */
export class SeatWatcher {
  private room: LiveRoom | null | undefined = undefined;
  private waiting: (() => void) | null = null;

  constructor(signaling: SignalingClient, slug: string, private readonly capacity: number) {
    followLobby(signaling, (msg) => {
      this.room = msg.rooms.find((r) => r.slug === slug) ?? null;
      this.check();
    });
  }

  /** members — who the lobby says is in the room (undefined until the first snapshot). */
  get members(): LiveRoom['members'] | undefined {
    return this.room === undefined ? undefined : this.room?.members ?? [];
  }

  /** wait — calls `onFree` once when a seat frees up. */
  wait(onFree: () => void): void {
    this.waiting = onFree;
    this.check();
  }

  private check(): void {
    if (!this.waiting || this.room === undefined) return;
    const count = this.room?.count ?? 0;
    const capacity = this.room?.capacity ?? this.capacity;
    if (count >= capacity) return;
    const fn = this.waiting;
    this.waiting = null;
    fn();
  }
}

// The lobby as a socket knows it: one order for both sides, and a full `lobby` plus `lobby-delta`s applied in sequence.
import type { LiveRoom, OnlineEntry, ServerMessageOf } from './protocol.js';

/** compareOnline — Online now's order: by display name, then by id (so equal names keep one order everywhere). */
export function compareOnline(a: OnlineEntry, b: OnlineEntry): number {
  return a.displayName.localeCompare(b.displayName) || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
}

/** compareRooms — Live rooms' order: by name, then by slug. */
export function compareRooms(a: LiveRoom, b: LiveRoom): number {
  return a.name.localeCompare(b.name) || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0);
}

export type LobbyMessage = ServerMessageOf<'lobby'> | ServerMessageOf<'lobby-delta'>;

/** LobbyChange — what one message changed: `full` for a whole snapshot, else the ids it touched. */
export interface LobbyChange {
  full: boolean;
  /** userIds set or removed. */
  online: ReadonlySet<string>;
  /** Room slugs set or removed. */
  rooms: ReadonlySet<string>;
}

/**
 * LobbyState — the lobby built from one socket's `lobby` and `lobby-delta` messages. A delta
 * applies only on top of the message numbered just before it; anything else is a gap and
 * the state is stale until the next full `lobby`.
 */
export class LobbyState {
  /** Sequence number of the last message applied; null before the first snapshot (or after reset). */
  seq: number | null = null;
  private readonly people = new Map<string, OnlineEntry>();
  private readonly live = new Map<string, LiveRoom>();
  private sortedOnline: OnlineEntry[] | null = [];
  private sortedRooms: LiveRoom[] | null = [];

  /**
   * apply — one message. Returns what changed; `null` for a delta already covered by the
   * current snapshot (or arriving before any); `'gap'` when a delta was missed.
   */
  apply(msg: LobbyMessage): LobbyChange | 'gap' | null {
    if (msg.type === 'lobby') {
      this.people.clear();
      this.live.clear();
      for (const p of msg.online) this.people.set(p.userId, p);
      for (const r of msg.rooms) this.live.set(r.slug, r);
      this.seq = msg.seq;
      this.sortedOnline = null;
      this.sortedRooms = null;
      return { full: true, online: new Set(this.people.keys()), rooms: new Set(this.live.keys()) };
    }
    if (this.seq === null || msg.seq <= this.seq) return null;
    if (msg.seq !== this.seq + 1) {
      this.seq = null;
      return 'gap';
    }
    this.seq = msg.seq;
    const online = new Set<string>();
    const rooms = new Set<string>();
    for (const id of msg.online.remove) if (this.people.delete(id)) online.add(id);
    for (const p of msg.online.set) {
      this.people.set(p.userId, p);
      online.add(p.userId);
    }
    for (const slug of msg.rooms.remove) if (this.live.delete(slug)) rooms.add(slug);
    for (const r of msg.rooms.set) {
      this.live.set(r.slug, r);
      rooms.add(r.slug);
    }
    if (online.size) this.sortedOnline = null;
    if (rooms.size) this.sortedRooms = null;
    return { full: false, online, rooms };
  }

  /** reset — a new socket: its first `lobby` starts over (sequence numbers belong to one server instance). */
  reset(): void {
    this.seq = null;
  }

  /** online — everyone, in Online now's order. */
  get online(): OnlineEntry[] {
    return (this.sortedOnline ??= [...this.people.values()].sort(compareOnline));
  }

  /** rooms — live rooms, in Live rooms' order. */
  get rooms(): LiveRoom[] {
    return (this.sortedRooms ??= [...this.live.values()].sort(compareRooms));
  }

  person(userId: string): OnlineEntry | undefined {
    return this.people.get(userId);
  }

  room(slug: string): LiveRoom | undefined {
    return this.live.get(slug);
  }
}

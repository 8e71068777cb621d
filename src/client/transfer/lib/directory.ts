// Who is reachable for transfers: lobby peers from the server's `lobby` lists, or the members of the room.
import type { OnlineEntry } from '../../../shared/protocol.js';
import type { Directory, Person } from './transport.js';

/** LobbyDirectory — fed with every `lobby` message; only tabs in the lobby may signal each other. */
export class LobbyDirectory implements Directory {
  private byPeer = new Map<string, Person>();
  private byUser = new Map<string, string[]>();
  private readonly listeners = new Set<() => void>();

  update(online: OnlineEntry[]): void {
    this.byPeer = new Map();
    this.byUser = new Map();
    for (const e of online) {
      const person = { userId: e.userId, displayName: e.displayName };
      this.byUser.set(e.userId, [...e.lobbyPeers]);
      for (const p of e.lobbyPeers) this.byPeer.set(p, person);
    }
    for (const fn of this.listeners) fn();
  }

  userOf(peerId: string): Person | null {
    return this.byPeer.get(peerId) ?? null;
  }

  peersOf(userId: string): string[] {
    return this.byUser.get(userId) ?? [];
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** RoomMember — one tab in the room. */
export interface RoomMember {
  peerId: string;
  userId: string;
  displayName: string;
}

/** RoomDirectory — fed with the call's roster whenever it changes (the call owns the roster). */
export class RoomDirectory implements Directory {
  private members: readonly RoomMember[] = [];
  private readonly listeners = new Set<() => void>();

  /** update — the others in the call now (someone joined, left or came back with a new peer id). */
  update(members: readonly RoomMember[]): void {
    this.members = members;
    for (const fn of this.listeners) fn();
  }

  /** people — everyone in the call but `selfUserId`, once each (two tabs are one person). */
  people(selfUserId: string): Person[] {
    const seen = new Map<string, Person>();
    for (const m of this.members) if (m.userId !== selfUserId && !seen.has(m.userId)) seen.set(m.userId, { userId: m.userId, displayName: m.displayName });
    return [...seen.values()];
  }

  userOf(peerId: string): Person | null {
    const m = this.members.find((x) => x.peerId === peerId);
    return m ? { userId: m.userId, displayName: m.displayName } : null;
  }

  peersOf(userId: string): string[] {
    return this.members.filter((m) => m.userId === userId).map((m) => m.peerId);
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

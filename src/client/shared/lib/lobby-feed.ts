// The browser side of the lobby feed: one LobbyState per signaling connection, shared by everything on the page that shows the lobby.
import { LobbyState, type LobbyChange } from '../../../shared/lobby.js';
import type { LiveRoom, OnlineEntry } from '../../../shared/protocol.js';
import type { SignalingClient } from './signaling-client.js';

/** LobbyListener — called with the whole lobby (kept up to date) and what the message changed. */
export type LobbyListener = (lobby: { online: OnlineEntry[]; rooms: LiveRoom[] }, change: LobbyChange) => void;

interface Feed {
  state: LobbyState;
  listeners: Set<LobbyListener>;
}

const feeds = new WeakMap<SignalingClient, Feed>();

/**
 * followLobby — calls `fn` after every `lobby` and `lobby-delta` (and at once if the lobby is
 * already known) with the lobby as a whole, so callers never deal with deltas; returns the
 * unsubscribe. If a delta is missing (which the
 * server never does on purpose), the socket is reconnected: a new socket starts with the whole
 * lobby again.
 */
export function followLobby(signaling: SignalingClient, fn: LobbyListener): () => void {
  let feed = feeds.get(signaling);
  if (!feed) {
    const f: Feed = { state: new LobbyState(), listeners: new Set() };
    feeds.set(signaling, (feed = f));
    const apply = (msg: Parameters<LobbyState['apply']>[0]) => {
      const change = f.state.apply(msg);
      if (change === 'gap') {
        signaling.drop();
        return;
      }
      if (!change) return;
      const lobby = { online: f.state.online, rooms: f.state.rooms };
      for (const l of f.listeners) l(lobby, change);
    };
    // Sequence numbers belong to one socket (one server instance): a new socket starts over.
    signaling.on('welcome', () => f.state.reset());
    signaling.on('lobby', apply);
    signaling.on('lobby-delta', apply);
  }
  const f = feed;
  f.listeners.add(fn);
  // A listener that arrives after the first snapshot (a panel mounted later) starts from what is known.
  if (f.state.seq !== null) {
    queueMicrotask(() => {
      if (f.listeners.has(fn)) fn({ online: f.state.online, rooms: f.state.rooms }, { full: true, online: new Set(), rooms: new Set() });
    });
  }
  return () => f.listeners.delete(fn);
}

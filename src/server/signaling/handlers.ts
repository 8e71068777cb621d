// What the server does with each client message; every room action is authorised here.
import type { RedisStore } from 'connect-redis';
import { CloseCode, ErrorCode, type LedgerEntry, type Peer, type TransferState } from '../../shared/protocol.js';
import { cleanName } from '../../shared/text.js';
import { describeTransfer } from '../../shared/ledger.js';
import { minutesLeft, removedMessage } from '../../shared/moderation.js';
import { loadSession } from '../auth/session.js';
import type { ChatStore } from '../store/chat.js';
import type { RedisClient } from '../store/redis.js';
import type { PeerRecord, RoomStore } from '../store/rooms.js';
import type { UserStore } from '../store/users.js';
import { HandlerError, type Connection, type HandlerMap } from './connection.js';
import type { SignalingHub } from './hub.js';
import { canEnterRoom } from '../auth/room-access.js';
import { mayModerate, Moderation, ModerationError, roomUpdated } from './moderation.js';
import type { Ringing } from './ringing.js';
import type { SharedFiles } from './shares.js';

export interface HandlerDeps {
  redis: RedisClient;
  rooms: RoomStore;
  users: UserStore;
  chat: ChatStore;
  hub: SignalingHub;
  sessionStore: RedisStore;
  ringing: Ringing;
  files: SharedFiles;
}

const toPeer = (p: PeerRecord): Peer => ({
  peerId: p.peerId, userId: p.userId, displayName: p.displayName, muted: p.muted, cameraOff: p.cameraOff,
});

/** leaveRoom — takes a connection out of its room and tells the others why. */
export async function leaveRoom(deps: HandlerDeps, conn: Connection, reason: 'left' | 'dropped' = 'left'): Promise<string | null> {
  const room = conn.room;
  if (!room) return null;
  conn.room = null;
  if (await deps.rooms.leave(room, conn.peerId)) {
    await deps.hub.toRoom(room, { type: 'peer-left', room, peerId: conn.peerId, reason });
  }
  await deps.hub.lobbyChanged();
  return room;
}

/** moderating — runs a moderation; its refusal is answered as a typed error. */
async function moderating<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof ModerationError) throw new HandlerError(err.code, err.message);
    throw err;
  }
}

const LOCKED = 'This room is locked. Nobody new can join until it is unlocked.';

/** createHandlers — one handler per client message type. */
export function createHandlers(deps: HandlerDeps): HandlerMap {
  const { rooms, hub } = deps;
  const moderation = new Moderation(deps);

  return {
    async join(conn, msg) {
      const session = await loadSession(deps.sessionStore, conn.sessionId);
      if (!session?.userId || session.userId !== conn.userId) {
        conn.close(CloseCode.SessionEnded, 'session ended');
        return;
      }
      const [room, user] = await Promise.all([rooms.get(msg.room), deps.users.findById(conn.userId)]);
      if (!room) throw new HandlerError(ErrorCode.RoomNotFound, 'This room does not exist (it may have been deleted).');
      // Removed from the room says more than "enter the passcode" (the store checks it again, atomically).
      const banned = await rooms.banRemaining(room.slug, conn.userId);
      if (banned > 0) throw new HandlerError(ErrorCode.Banned, removedMessage(minutesLeft(banned)));
      const access = await canEnterRoom(rooms, room, conn.userId, session);
      if (access === 'passcode') throw new HandlerError(ErrorCode.PasscodeRequired, 'This room needs its passcode first.');
      if (access === 'not-invited') throw new HandlerError(ErrorCode.NotInvited, 'Only invited people may join this call.');

      if (conn.room && conn.room !== room.slug) await leaveRoom(deps, conn);
      // The owner and admins may join a locked room (to unlock it, or to deal with whoever is in it).
      const result = await rooms.join(room.slug, conn.peerId, conn.userId, { passLock: user !== null && mayModerate(room, user) });
      if (!result.ok) {
        if (result.reason === 'not-found') throw new HandlerError(ErrorCode.RoomNotFound, 'This room does not exist (it may have been deleted).');
        if (result.reason === 'locked') throw new HandlerError(ErrorCode.RoomLocked, LOCKED);
        if (result.reason === 'banned') throw new HandlerError(ErrorCode.Banned, removedMessage(minutesLeft(result.remainingMs)));
        throw new HandlerError(ErrorCode.RoomFull, `This room is full (${result.count} of ${room.capacity}).`);
      }
      conn.room = room.slug;
      // A removal that landed between the seat and this line found no tab of ours in the room
      // (conn.room was not set yet): look again now that it is, so the seat does not outlive it.
      const bannedNow = await rooms.banRemaining(room.slug, conn.userId);
      if (bannedNow > 0) {
        await leaveRoom(deps, conn);
        throw new HandlerError(ErrorCode.Banned, removedMessage(minutesLeft(bannedNow)));
      }
      const members = await rooms.members(room.slug);
      const self = members.find((m) => m.peerId === conn.peerId);
      const selfPeer: Peer = self ? toPeer(self) : { peerId: conn.peerId, userId: conn.userId, displayName: conn.displayName, muted: false, cameraOff: false };
      conn.send({
        type: 'joined',
        room: { slug: room.slug, name: room.name, capacity: room.capacity },
        self: selfPeer,
        peers: members.filter((m) => m.peerId !== conn.peerId).map(toPeer),
        ...(msg.ref ? { ref: msg.ref } : {}),
      });
      await hub.toRoom(room.slug, { type: 'peer-joined', room: room.slug, peer: selfPeer }, conn.peerId);
      await hub.lobbyChanged();
    },

    async leave(conn, msg) {
      const room = await leaveRoom(deps, conn);
      if (!room) throw new HandlerError(ErrorCode.NotInRoom, 'You are not in a room.');
      conn.send({ type: 'left', room, ...(msg.ref ? { ref: msg.ref } : {}) });
    },

    // Peers may signal each other when they are in the same room, or both in the lobby
    // (for lobby file transfers); never across rooms or between a room and the lobby.
    async signal(conn, msg) {
      if (msg.to === conn.peerId) throw new HandlerError(ErrorCode.PeerNotFound, 'You cannot signal yourself.');
      const where = conn.room ? 'your room' : 'the lobby';
      const out = { type: 'signal' as const, from: conn.peerId, payload: msg.payload };
      const local = hub.local(msg.to);
      if (local) {
        // Fast path: both ends on this instance, whereabouts known in memory.
        if (local.room !== conn.room) throw new HandlerError(ErrorCode.PeerNotFound, `That peer is not in ${where}.`);
        local.send(out);
        return;
      }
      const target = await rooms.peer(msg.to);
      if (!target || target.room !== conn.room) throw new HandlerError(ErrorCode.PeerNotFound, `That peer is not in ${where}.`);
      await hub.toPeer(msg.to, out);
    },

    async media(conn, msg) {
      if (!conn.room) throw new HandlerError(ErrorCode.NotInRoom, 'Join a room first.');
      conn.muted = msg.muted;
      conn.cameraOff = msg.cameraOff;
      await rooms.setMedia(conn.peerId, { muted: msg.muted, cameraOff: msg.cameraOff });
      const peer: Peer = { peerId: conn.peerId, userId: conn.userId, displayName: conn.displayName, muted: msg.muted, cameraOff: msg.cameraOff };
      await hub.toRoom(conn.room, { type: 'peer-updated', room: conn.room, peer }, conn.peerId);
    },

    async chat(conn, msg) {
      if (!conn.room) throw new HandlerError(ErrorCode.NotInRoom, 'Join a room to chat.');
      if (!(await deps.chat.allow(conn.userId))) throw new HandlerError(ErrorCode.RateLimited, 'You are sending messages too fast; wait a few seconds.');
      const message = await deps.chat.append(conn.room, { userId: conn.userId, displayName: conn.displayName, text: msg.text.trim() });
      await hub.toRoom(conn.room, { type: 'chat', room: conn.room, message });
    },

    async moderate(conn, msg) {
      const { minutes } = await moderating(moderation.remove(msg.room, conn.userId, msg.userId));
      conn.send({ type: 'moderated', room: msg.room, action: msg.action, userId: msg.userId, minutes, ...(msg.ref ? { ref: msg.ref } : {}) });
    },

    async 'room-settings'(conn, msg) {
      const room = await moderating(moderation.setLocked(msg.room, conn.userId, msg.locked, conn.peerId));
      conn.send(roomUpdated(room, msg.ref));
    },

    ring: (conn, msg) => deps.ringing.ring(conn, msg),
    'ring-cancel': (conn, msg) => deps.ringing.cancel(conn, msg),
    'ring-answer': (conn, msg) => deps.ringing.answer(conn, msg),
    dnd: (conn, msg) => deps.ringing.setDnd(conn, msg),
    'dismiss-missed': (conn, msg) => deps.ringing.dismissMissed(conn, msg),

    share: (conn, msg) => deps.files.share(conn, msg),
    unshare: (conn, msg) => deps.files.unshare(conn, msg),
    'files-watch': (conn, msg) => deps.files.watch(conn, msg),

    async ledger(conn, msg) {
      if (!conn.room) throw new HandlerError(ErrorCode.NotInRoom, 'Transfers are recorded only in rooms.');
      // Ledger lines land in the same history as chat: the same budget, so they cannot flush it.
      if (!(await deps.chat.allow(conn.userId))) throw new HandlerError(ErrorCode.RateLimited, 'Too many transfer records; wait a few seconds.');
      const peerInRoom = async (peerId: string) => {
        const target = await rooms.peer(peerId);
        if (!target || target.room !== conn.room) throw new HandlerError(ErrorCode.PeerNotFound, 'That peer is not in your room.');
        return target;
      };
      let fromName = conn.displayName;
      let toName: string | null = null;
      let by: LedgerEntry['by'];
      if (msg.from) {
        // The receiver's report: its own check of the whole file, or its own decision.
        if (msg.to !== null || !RECEIVER_STATES.has(msg.state)) throw new HandlerError(ErrorCode.BadMessage, 'A receiver reports verified, failed, declined or cancelled, with "to": null.');
        if (msg.from === conn.peerId) throw new HandlerError(ErrorCode.PeerNotFound, 'You cannot have sent a file to yourself.');
        fromName = (await peerInRoom(msg.from)).displayName;
        toName = conn.displayName;
        by = 'receiver';
      } else {
        // The sender's word cannot make a file verified: only the receiver's own check can.
        if (msg.state === 'verified') throw new HandlerError(ErrorCode.BadMessage, 'Only the receiver can report a file as verified.');
        if (msg.to) toName = (await peerInRoom(msg.to)).displayName;
      }
      const transfer: LedgerEntry = {
        transferId: msg.transferId, fromName, toName, name: cleanName(msg.name) || 'file', size: msg.size, sha256: msg.sha256, state: msg.state,
        ...(by ? { by } : {}),
      };
      const message = await deps.chat.append(conn.room, { userId: conn.userId, displayName: conn.displayName, text: describeTransfer(transfer), transfer });
      await hub.toRoom(conn.room, { type: 'chat', room: conn.room, message });
    },
  };
}

const RECEIVER_STATES: ReadonlySet<TransferState> = new Set(['verified', 'failed', 'declined', 'cancelled']);

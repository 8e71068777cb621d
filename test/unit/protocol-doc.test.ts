// PROTOCOL.md tells the truth: every JSON example fits the schemas, and every message type has one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import * as v from 'valibot';
import { ROOT_DIR } from '../../src/server/paths.js';
import {
  CLIENT_MESSAGE_TYPES, ClientMessageSchema, ErrorCode, SERVER_MESSAGE_TYPES, ServerMessageSchema, SignalPayloadSchema,
} from '../../src/shared/protocol.js';
import { parseRtc, parseSignal } from '../../src/client/transfer/lib/messages.js';

interface Example {
  /** The heading the example sits under. */
  heading: string;
  json: Record<string, unknown>;
}

/** section — the text from `## <title>` to the next `## ` heading. */
function section(doc: string, title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `PROTOCOL.md has a "## ${title}" section`).to.be.greaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** examples — every ```json block of `text`: one JSON value per block, or one per line. */
function examples(text: string): Example[] {
  const out: Example[] = [];
  let heading = '';
  const blocks = text.split(/^```/m);
  blocks.forEach((block, i) => {
    if (i % 2 === 0) {
      heading = [...block.matchAll(/^###? (.+)$/gm)].at(-1)?.[1] ?? heading;
      return;
    }
    if (!block.startsWith('json\n')) return;
    const body = block.slice('json\n'.length).trim();
    let values: unknown[];
    try {
      values = [JSON.parse(body)];
    } catch {
      values = body.split('\n').map((line) => {
        try {
          return JSON.parse(line) as unknown;
        } catch (err) {
          throw new Error(`PROTOCOL.md, "${heading}": not JSON: ${line}\n${(err as Error).message}`);
        }
      });
    }
    for (const json of values) {
      expect(json, `PROTOCOL.md, "${heading}": an example is a JSON object`).to.be.an('object');
      out.push({ heading, json: json as Record<string, unknown> });
    }
  });
  return out;
}

/** problems — what valibot found wrong, readably. */
function problems(result: v.SafeParseResult<v.GenericSchema>): string {
  return result.issues?.map((i) => `${v.getDotPath(i) ?? '(message)'}: ${i.message}`).join('; ') ?? '';
}

/** appDataProblem — file-transfer app data must also pass the receiving browser's own checks. */
function appDataProblem(payload: unknown): string | null {
  const p = payload as { kind?: string; app?: string; data?: unknown };
  if (p?.kind !== 'app') return null;
  if (p.app === 'transfer' && parseSignal(p.data) === null) return `not a valid "transfer" message: ${JSON.stringify(p.data)}`;
  if (p.app === 'transfer-rtc' && parseRtc(p.data) === null) return `not a valid "transfer-rtc" message: ${JSON.stringify(p.data)}`;
  return null;
}

describe('PROTOCOL.md', () => {
  let doc = '';
  let fromBrowser: Example[] = [];
  let fromServer: Example[] = [];
  // Read in a hook: a broken example fails this suite, not the whole run.
  before(() => {
    doc = readFileSync(path.join(ROOT_DIR, 'PROTOCOL.md'), 'utf8');
    fromBrowser = examples(section(doc, 'Messages from the browser'));
    fromServer = examples(section(doc, 'Messages from the server'));
  });

  describe('messages from the browser', () => {
    it('are all valid client messages (or signal payloads), app data included', () => {
      expect(fromBrowser.length).to.be.greaterThan(0);
      for (const { heading, json } of fromBrowser) {
        const where = `"${heading}": ${JSON.stringify(json)}`;
        if ('type' in json) {
          const r = v.safeParse(ClientMessageSchema, json);
          expect(r.success, `${where}\n${problems(r)}`).to.equal(true);
          expect(appDataProblem(json.payload), where).to.equal(null);
        } else {
          const r = v.safeParse(SignalPayloadSchema, json);
          expect(r.success, `${where}\n${problems(r)}`).to.equal(true);
          expect(appDataProblem(json), where).to.equal(null);
        }
      }
    });

    it('show every client message type of src/shared/protocol.ts', () => {
      const shown = new Set(fromBrowser.map((e) => e.json.type));
      expect(CLIENT_MESSAGE_TYPES.filter((t) => !shown.has(t)), 'client message types without an example').to.deep.equal([]);
    });

    it('show every kind of signal payload', () => {
      const kinds = new Set(fromBrowser.map((e) => (('type' in e.json ? e.json.payload : e.json) as { kind?: string } | undefined)?.kind));
      const all = SignalPayloadSchema.options.map((o) => o.entries.kind.literal);
      expect(all.filter((k) => !kinds.has(k)), 'signal payload kinds without an example').to.deep.equal([]);
    });
  });

  describe('messages from the server', () => {
    it('are all valid server messages', () => {
      expect(fromServer.length).to.be.greaterThan(0);
      for (const { heading, json } of fromServer) {
        const r = v.safeParse(ServerMessageSchema, json);
        expect(r.success, `"${heading}": ${JSON.stringify(json)}\n${problems(r)}`).to.equal(true);
      }
    });

    it('show every server message type of src/shared/protocol.ts', () => {
      const shown = new Set(fromServer.map((e) => e.json.type));
      expect(SERVER_MESSAGE_TYPES.filter((t) => !shown.has(t)), 'server message types without an example').to.deep.equal([]);
    });

    it('explain every error code', () => {
      const table = section(doc, 'Messages from the server');
      const explained = new Set([...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]));
      expect(Object.values(ErrorCode).filter((c) => !explained.has(c)), 'error codes missing from the table').to.deep.equal([]);
      expect([...explained].filter((c) => !(Object.values(ErrorCode) as string[]).includes(c!)), 'codes in the table that do not exist').to.deep.equal([]);
    });
  });

  it('names each message by its heading with the type it shows', () => {
    // "### join — enter a room" must show a `join`; a heading naming several types shows each.
    for (const { heading, json } of [...fromBrowser, ...fromServer]) {
      if (!('type' in json) || heading.startsWith('App messages')) continue;
      const named = heading.split(' — ')[0]!.split(' / ');
      expect(named, `"${heading}" shows a "${String(json.type)}" example`).to.include(json.type);
    }
  });
});

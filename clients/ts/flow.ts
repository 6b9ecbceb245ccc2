// A client developer's first day, with nothing but the types openapi-typescript generated from
// openapi/hallway.json and openapi-fetch: sign in with the emailed code, create an event, import
// attendees from a CSV file, fetch the badge PNG, scan a badge online, upload an offline batch,
// sync connections by delta, write a note. Compiled with `tsc --strict` and run by
// scripts/clients-check against a live server:
//
//     node out/flow.js BASE_URL OUTBOX_DIR
//
// Exits non-zero at the first step whose answer is not the documented one.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const [baseArgument, outboxArgument] = process.argv.slice(2);
if (!baseArgument || !outboxArgument) throw new Error("usage: flow.js BASE_URL OUTBOX_DIR");
const baseUrl: string = baseArgument;
const outbox: string = outboxArgument;
const SUBJECT = "Subject: Your Hallway sign-in code: ";

function check(condition: boolean, what: string, detail?: unknown): asserts condition {
  if (!condition) throw new Error(`${what}: ${JSON.stringify(detail)}`);
}

function mails(): Set<string> {
  return new Set(readdirSync(outbox).filter((name) => name.endsWith(".eml")));
}

async function emailedCode(email: string, seen: Set<string>): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const name of [...mails()].filter((n) => !seen.has(n)).sort()) {
      const lines = readFileSync(join(outbox, name), "utf8").split(/\r?\n/);
      const subject = lines.find((line) => line.startsWith(SUBJECT));
      if (lines.includes(`To: ${email}`) && subject) return subject.slice(SUBJECT.length).trim();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no sign-in code for ${email} in ${outbox}`);
}

async function signIn(email: string) {
  const anonymous = createClient<paths>({ baseUrl });
  const seen = mails();
  const asked = await anonymous.POST("/v1/auth/email-codes", { body: { email } });
  check(asked.response.status === 202, "code asked", asked.error);
  const code = await emailedCode(email, seen);
  const tokens = await anonymous.POST("/v1/auth/tokens", { body: { email, code } });
  check(tokens.data !== undefined, "signed in", tokens.error);
  return createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${tokens.data.access_token}` },
  });
}

type Api = Awaited<ReturnType<typeof signIn>>;

async function badgeCode(client: Api, event_id: string): Promise<string> {
  const badge = await client.GET("/v1/events/{event_id}/me/badge", { params: { path: { event_id } } });
  check(badge.data !== undefined, "badge", badge.error);
  return badge.data.code;
}

const run = randomUUID().slice(0, 8);
const org = await signIn(`org-${run}@example.org`);
const bob = await signIn(`bob-${run}@example.org`);

const created = await org.POST("/v1/events", {
  body: {
    name: "RustConf 2026",
    slug: `flow-ts-${run}`,
    starts_at: "2026-09-08T09:00:00-07:00",
    ends_at: "2026-09-10T18:00:00-07:00",
    time_zone: "America/Los_Angeles",
  },
});
check(created.data !== undefined, "event created", created.error);
const event_id = created.data.id;
const inEvent = { params: { path: { event_id } } };

const csv = `email,name\nada-${run}@example.org,Ada Lovelace\ngrace-${run}@example.org,Grace Hopper\n`;
const imported = await org.POST("/v1/events/{event_id}/attendee-imports/csv", {
  ...inEvent,
  body: csv,
  headers: { "Content-Type": "text/csv" },
  bodySerializer: (body: string) => body,
});
check(imported.data !== undefined, "CSV imported", imported.error);
check(imported.data.created === 2 && imported.data.rejected === 0, "rows created", imported.data);

const png = await org.GET("/v1/events/{event_id}/me/badge.png", { ...inEvent, parseAs: "arrayBuffer" });
check(png.data !== undefined, "badge PNG", png.error);
const magic = Buffer.from(png.data).subarray(0, 8).toString("hex");
check(magic === "89504e470d0a1a0a", "a PNG", magic);

const joinCode = await org.PUT("/v1/events/{event_id}/join-code", inEvent);
check(joinCode.data !== undefined, "join code", joinCode.error);
const joined = await bob.POST("/v1/events/{event_id}/join", {
  ...inEvent,
  body: { join_code: joinCode.data.join_code },
});
check(joined.data !== undefined, "joined", joined.error);

const now = new Date();
const online = await org.POST("/v1/events/{event_id}/scans", {
  ...inEvent,
  body: { client_scan_id: randomUUID(), badge_code: await badgeCode(bob, event_id), scanned_at: now.toISOString() },
});
check(online.data?.status === "created", "online scan", online.data ?? online.error);

// Bob's phone was offline: it uploads the scan of the organizer's badge it kept.
const tenMinutesAgo = new Date(now.getTime() - 10 * 60_000).toISOString();
const batch = await bob.POST("/v1/events/{event_id}/scans/batch", {
  ...inEvent,
  body: { scans: [{ client_scan_id: randomUUID(), badge_code: await badgeCode(org, event_id), scanned_at: tenMinutesAgo }] },
});
check(batch.data !== undefined, "batch", batch.error);
const statuses = batch.data.results.map((r) => r.status);
check(["created", "already_connected"].includes(statuses.join()), "batch item", statuses);

const full = await bob.GET("/v1/events/{event_id}/connections", inEvent);
check(full.data !== undefined && full.data.items.length === 1, "full sync", full.data ?? full.error);
const token = full.data.sync_token;
check(typeof token === "string", "a sync token", full.data);
const connection_id = full.data.items[0]!.connection_id;
const note = await bob.POST("/v1/events/{event_id}/connections/{connection_id}/notes", {
  params: { path: { event_id, connection_id } },
  body: { body: "Ask about the import tool." },
});
check(note.data !== undefined, "note", note.error);

const delta = await bob.GET("/v1/events/{event_id}/connections", {
  params: { path: { event_id }, query: { updated_since: token } },
});
check(delta.data !== undefined, "delta sync", delta.error);
check(delta.data.items.map((c) => c.connection_id).join() === connection_id, "changed", delta.data);
check(delta.data.items[0]!.note_count === 1, "note counted", delta.data.items[0]);
check(!("next_cursor" in delta.data), "last page", delta.data);
console.log(`typescript flow: ok against ${baseUrl}`);

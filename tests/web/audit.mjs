// The graphql-http audit suite (an independent implementation of the GraphQL-over-HTTP spec)
// against a running Reunify: every MUST and every SHOULD must pass. Every request carries a
// development token (Reunify answers nothing to an anonymous caller but 401).
//
//   node audit.mjs http://127.0.0.1:8080/graphql "$TOKEN"
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs <graphql url> <bearer token>');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const counts = {};
const failed = [];
for (const r of results) {
  const level = r.name.split(' ')[0];
  counts[level] ??= { ok: 0, failed: 0 };
  if (r.status === 'ok') {
    counts[level].ok += 1;
  } else {
    counts[level].failed += 1;
    let detail = '';
    if (r.response) {
      const body = await r.response.text().catch(() => '');
      detail = ` — got ${r.response.status} ${r.response.headers.get('content-type') ?? ''}: ${body.slice(0, 200)}`;
    }
    failed.push({ level, text: `${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}${detail}` });
  }
}
for (const [level, c] of Object.entries(counts)) {
  console.log(`${level}: ${c.ok} of ${c.ok + c.failed} pass`);
}
for (const f of failed) console.log(f.text);
const required = failed.filter((f) => f.level === 'MUST' || f.level === 'SHOULD');
if (required.length > 0) {
  console.error(`${required.length} MUST or SHOULD audit(s) failed`);
  process.exit(1);
}

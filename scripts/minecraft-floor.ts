/**
 * The floor for `npm run bench:minecraft`: the smallest program doing what a verified event must do, and
 * nothing else. A bare node:http server that reads the body, verifies it with the same Standard Webhooks
 * verifier, inserts the event id (one statement, one commit, per request) and answers. Started by the bench
 * with FLOOR_DATABASE_URL, FLOOR_SECRET and FLOOR_PORT.
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { createWebhookVerifier } from '../minecraft/signing.ts';

const pool = new pg.Pool({ connectionString: process.env.FLOOR_DATABASE_URL, max: 20 });
const verify = createWebhookVerifier(process.env.FLOOR_SECRET!);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const h = (name: string) => req.headers[name] as string | undefined;
    const problem = verify(body, {
      'webhook-id': h('webhook-id'),
      'webhook-timestamp': h('webhook-timestamp'),
      'webhook-signature': h('webhook-signature'),
    });
    if (problem) {
      res.writeHead(401).end();
      return;
    }
    pool
      .query(
        `insert into minecraft_events (webhook_id, type, server, status, answer) values ($1, 'floor', 'floor', 200, '{}')
         on conflict do nothing`,
        [h('webhook-id')],
      )
      .then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"message":"floor"}'),
        () => res.writeHead(500).end(),
      );
  });
});
server.listen(Number(process.env.FLOOR_PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));

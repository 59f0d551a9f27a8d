import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for a ServerTap-compatible Minecraft server API at its HTTP boundary: `GET /v1/players`
 * and `POST /v1/server/exec` (form field `command`). Every call must carry the `key` header (401 otherwise);
 * every command it accepts is recorded. Tests say which players are online and can take the server down.
 */
export class FakeServerTap {
  readonly commands: string[] = [];
  /** Every request, with the status it got. */
  readonly calls: { method: string; path: string; status: number }[] = [];
  /** While true, every request is answered 503, as a server restarting would. */
  down = false;
  /** Commands containing this text are refused with 400, as for an unknown command. */
  refuse: string | null = null;
  private readonly online = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly key: string,
  ) {}

  static async start(key: string): Promise<FakeServerTap> {
    const ref: { fake?: FakeServerTap } = {};
    const server = createServer((req, res) => void ref.fake!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    ref.fake = new FakeServerTap(server, `http://127.0.0.1:${port}`, key);
    return ref.fake;
  }

  join(uuid: string, name: string): void {
    this.online.set(uuid.toLowerCase(), name);
  }

  quit(uuid: string): void {
    this.online.delete(uuid.toLowerCase());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const answer = (status: number, json: unknown) => {
      this.calls.push({ method: req.method ?? '', path: req.url ?? '', status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    };
    if (req.headers.key !== this.key) return answer(401, { title: 'Unauthorized', status: 401 });
    if (this.down) return answer(503, { title: 'Service Unavailable', status: 503 });
    if (req.method === 'GET' && req.url === '/v1/players') {
      return answer(
        200,
        [...this.online].map(([uuid, displayName]) => ({ uuid, displayName, op: false, banned: false })),
      );
    }
    if (req.method === 'POST' && req.url === '/v1/server/exec') {
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
        return answer(415, { title: 'form body expected' });
      const command = new URLSearchParams(body).get('command');
      if (!command) return answer(400, { title: 'command is required' });
      if (this.refuse && command.includes(this.refuse)) return answer(400, { title: 'unknown command' });
      this.commands.push(command);
      return answer(200, '');
    }
    return answer(404, { title: 'Not Found' });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

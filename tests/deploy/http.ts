import http from 'node:http';

export interface PlainResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): unknown;
}

/**
 * One HTTP request on a fresh connection (GET, or POST with a body). The processes under test idle between steps
 * longer than Node's keep-alive timeout, and a pooled connection the server has closed would fail a test for no
 * fault of theirs.
 */
export function plainRequest(
  url: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.body === undefined ? 'GET' : 'POST', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

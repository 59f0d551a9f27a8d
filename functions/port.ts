import { createServer } from 'node:net';

/** True when something already listens on `port` (checked by binding it briefly on `host`). */
export function portTaken(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(true) : reject(err),
    );
    probe.listen(port, host, () => probe.close(() => resolve(false)));
  });
}

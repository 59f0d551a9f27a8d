/** npm run mc:secret: a new Standard Webhooks secret for REDEMPTION_WEBHOOK_SECRET and the server's plugin. */
import { randomBytes } from 'node:crypto';

process.stdout.write(`whsec_${randomBytes(32).toString('base64')}\n`);

// The real algwatch server (startServer: reflectors, HTTP, socket.io agent gateway, relational
// store, InfluxDB time-series store) in its own process, for the ingest benchmark. Reflectors on
// ephemeral ports; the log (info level, as in production) goes to <dataDir>/server.log.
// argv: DATA_DIR INFLUX_URL
import { join } from 'node:path';
import pino from 'pino';
import { parseServerConfig } from '../../server/src/config.js';
import { startServer } from '../../server/src/server.js';
import { reportReady } from './child.js';

const [dataDir, influxUrl] = process.argv.slice(2);
if (!dataDir || !influxUrl) throw new Error('usage: ingest-server.ts DATA_DIR INFLUX_URL');
const config = parseServerConfig(
  ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--data-dir', dataDir, '--influx-url', influxUrl],
  {},
);
const log = pino({ level: 'info', base: { service: 'algwatch-server' } }, pino.destination({ dest: join(dataDir, 'server.log'), sync: false }));
const server = await startServer(config, log);
process.once('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
reportReady(server.httpPort);

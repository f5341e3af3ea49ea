/**
 * The site page in a real browser, fed by the real pipeline: the agent daemon in a lan namespace
 * behind a router running the kernel SIP ALG (nf_nat_sip), the server in the wan namespace, and
 * Chromium in the wan namespace too (started through `ip netns exec`; playwright talks to it over
 * pipes, which cross namespaces). The technician logs in and reads the rewritten Via and Contact
 * lines (and SDP c=), the router's public address highlighted in what arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { openRelationalStore } from '../../server/src/relational/open.js';
import { CHROMIUM, screenshot } from '../helpers/chromium.js';
import { cli, lastLine } from '../helpers/dashboard-server.js';
import type { ManagedProcess } from '../helpers/process.js';
import { requireNetns } from '../testbed/netns-gate.js';
import { TESTBED_ADDRESSES as A, useTopology } from '../testbed/topology.js';
import { assertBuilt } from './algwatch-processes.js';

const netns = requireNetns();
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = join(REPO, 'server/bin/algwatch-server.js');
const AGENT_BIN = join(REPO, 'agent/bin/algwatch-agent.js');

describe.runIf(netns)('the site page of a site behind the kernel SIP ALG, in Chromium', () => {
  const topology = useTopology({ sipAlg: true });
  let workDir: string;
  let browser: Browser | undefined;
  let server: ManagedProcess | undefined;
  let agent: ManagedProcess | undefined;
  let password: string;
  let siteId: string;

  beforeAll(async () => {
    assertBuilt();
    workDir = await mkdtemp(join(tmpdir(), 'algwatch-dashboard-testbed-'));
    const serverDir = join(workDir, 'server');
    password = lastLine(await cli(serverDir, ['user', 'add', 'tech', '--role', 'technician', '--tenants', 'acme']));
    const store = await openRelationalStore({ dataDir: serverDir });
    const { site, token } = await store.createSite('lab', 'acme');
    siteId = site.id;
    await store.setSiteSchedule(site.id, { sipAlg: '*/5 * * * * *', stunMapping: '*/5 * * * * *', natBehavior: '', bindingLifetime: '', keepalive: '', rtpPath: '' });
    await store.close();
    server = topology().spawn('wan', process.execPath, [SERVER_BIN, '--bind', A.server, '--alt-address', A.serverAlt, '--data-dir', serverDir]);
    await server.waitForOutput(/algwatch server listening/, 20_000);
    agent = topology().spawn('lan', process.execPath, [AGENT_BIN, 'run', '--server', `http://${A.server}:8080`, '--data-dir', join(workDir, 'agent')], {
      env: { ...process.env, ALGWATCH_TOKEN: token },
    });
    const wrapper = join(workDir, 'chromium-in-wan.sh');
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${topology().namespaces.wan} ${CHROMIUM} "$@"\n`);
    await chmod(wrapper, 0o755);
    browser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-gpu'] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await server?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('shows the Via, Contact and SDP c= lines the router rewrote, the agent`s address replaced by the router`s', async () => {
    const page = await (browser as Browser).newPage();
    await page.goto(`http://${A.server}:8080/sites/${siteId}`);
    await page.fill('input[name="username"]', 'tech');
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
    // The page updates itself when the agent's first round lands (every 5 s here).
    const outbound = page.locator('table.diff[data-transport="udp"][data-direction="outbound"] tbody tr');
    await outbound.first().waitFor({ timeout: 45_000 });
    const fields = await outbound.locator('th').allInnerTexts();
    expect(fields).toEqual(expect.arrayContaining(['Via', 'Contact', 'SDP c=']));
    for (const field of ['Via', 'Contact']) {
      const row = outbound.filter({ has: page.locator(`th:text-is("${field}")`) });
      expect(await row.locator('td.sent').innerText()).toContain(A.agent);
      expect(await row.locator('td.received').innerText()).toContain(A.routerWan);
      expect(await row.locator('td.received ins').innerText()).not.toBe('');
    }
    expect(await page.locator('h1').innerText()).toContain('critical');
    await expect.poll(() => page.locator('h3:has-text("SIP over TLS")').innerText(), { timeout: 30_000 }).toContain('clean');
    await screenshot(page, 'site-behind-kernel-alg');
  }, 90_000);
});

/**
 * The dashboard in a real browser (Debian's Chromium) against a real server process: log in through
 * the form, see the fleet, open a site and read the rewritten lines, watch results arrive without a
 * reload, run a check now, and check that a technician limited to one tenant never sees another's
 * sites in pages or socket.io frames. Screenshots of each page are saved as artifacts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { SipRewrite } from '@algwatch/protocol/check-report';
import { launchChromium, screenshot } from '../helpers/chromium.js';
import { cli, lastLine, makeDataDir, startDashboardServer, type DashboardServer } from '../helpers/dashboard-server.js';
import { connectAgent, sendResults, sipAlgResult, stunResult, type AgentSocket } from '../helpers/socket-agent.js';
import { logIn } from '../helpers/dashboard-session.js';
import { startProcess, type ManagedProcess } from '../helpers/process.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer as createHttpServer } from 'node:http';

const AGENT_BIN = fileURLToPath(new URL('../../agent/bin/algwatch-agent.js', import.meta.url));

const REWRITES: SipRewrite[] = [
  { direction: 'outbound', field: 'Via', sent: 'SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;rport', received: 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK1;rport' },
  { direction: 'outbound', field: 'Contact', sent: '<sip:alice@192.168.1.20:5060>', received: '<sip:alice@203.0.113.1:5060>' },
  { direction: 'outbound', field: 'SDP c=', sent: 'c=IN IP4 192.168.1.20', received: 'c=IN IP4 203.0.113.1' },
];

describe('the dashboard in Chromium', () => {
  let server: DashboardServer;
  let browser: Browser;
  const passwords: Record<string, string> = {};
  const agents: Record<string, AgentSocket> = {};
  const siteIds: Record<string, string> = {};
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const dataDir = await makeDataDir();
    passwords.admin = lastLine(await cli(dataDir, ['user', 'add', 'admin', '--role', 'admin']));
    passwords.tech = lastLine(await cli(dataDir, ['user', 'add', 'acme-tech', '--role', 'technician', '--tenants', 'acme']));
    passwords.viewer = lastLine(await cli(dataDir, ['user', 'add', 'watcher', '--role', 'viewer']));
    const tokens = {
      acme: lastLine(await cli(dataDir, ['site', 'add', 'acme-hq', '--tenant', 'acme'])),
      globex: lastLine(await cli(dataDir, ['site', 'add', 'globex-branch', '--tenant', 'globex'])),
    };
    server = await startDashboardServer(dataDir);
    for (const [tenant, token] of Object.entries(tokens)) agents[tenant] = await connectAgent(server.base, token);
    await sendResults(agents.acme as AgentSocket, [sipAlgResult('udp', REWRITES), sipAlgResult('tls', []), stunResult('203.0.113.1', 40000)]);
    const admin = await logIn(server.base, 'admin', passwords.admin);
    const fleet = (await (await fetch(`${server.base}/api/fleet`, { headers: { cookie: admin.cookie } })).json()) as { rows: Array<{ siteId: string; tenant: string }> };
    for (const row of fleet.rows) siteIds[row.tenant] = row.siteId;
    browser = await launchChromium();
  });
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    for (const agent of Object.values(agents)) agent.close();
    await server?.stop();
  });

  async function loggedInPage(username: string, password: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${server.base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('table.fleet tbody tr[data-site-id]');
    return page;
  }

  it('logs in through the form and shows the fleet, worst site first', async () => {
    const page = await loggedInPage('admin', passwords.admin as string);
    const rows = page.locator('table.fleet tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const first = rows.nth(0);
    expect(await first.locator('td').nth(2).innerText()).toBe('acme-hq');
    expect(await first.getAttribute('data-state')).toBe('critical');
    expect(await first.innerText()).toContain('UDP detected');
    expect(await first.innerText()).toContain('203.0.113.1:40000');
    expect(await rows.nth(1).innerText()).toContain('globex-branch');
    await screenshot(page, 'fleet');
  });

  it('opens a site and shows the rewritten Via, Contact and SDP lines with the changed part highlighted', async () => {
    const page = await loggedInPage('admin', passwords.admin as string);
    await page.click('a:text("acme-hq")');
    await page.waitForSelector('table.diff[data-transport="udp"][data-direction="outbound"]');
    const diff = page.locator('table.diff[data-transport="udp"][data-direction="outbound"] tbody tr');
    expect(await diff.locator('th').allInnerTexts()).toEqual(['Via', 'Contact', 'SDP c=']);
    expect(await diff.nth(0).locator('td.sent del').innerText()).toBe('192.168.1.20');
    expect(await diff.nth(0).locator('td.received ins').innerText()).toBe('203.0.113.1');
    expect(await diff.nth(2).locator('td.received').innerText()).toBe('c=IN IP4 203.0.113.1');
    expect(await page.locator('#remediation').innerText()).toContain('Turn SIP ALG off on the router');
    await page.waitForSelector('.chart[data-unit="detected"] .uplot');
    await screenshot(page, 'site');
  });

  it('shows a new result in the fleet without a reload', async () => {
    const page = await loggedInPage('admin', passwords.admin as string);
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const globex = page.locator(`tr[data-site-id="${siteIds.globex}"]`);
    expect(await globex.innerText()).toContain('no result yet');
    await sendResults(agents.globex as AgentSocket, [sipAlgResult('udp', [])]);
    await expect.poll(() => globex.innerText(), { timeout: 10_000 }).toContain('UDP clean');
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it('runs a check now: the agent is asked and the page shows the result when it lands', async () => {
    const page = await loggedInPage('admin', passwords.admin as string);
    await page.goto(`${server.base}/sites/${siteIds.acme}`);
    await page.waitForSelector('#run-now');
    const asked = new Promise<{ probes: string[] }>((resolve) => agents.acme?.once('runNow', resolve));
    await page.click('#run-now');
    expect((await asked).probes).toContain('sip-alg');
    await expect.poll(() => page.locator('#run-status').innerText()).toContain('waiting for the result');
    await sendResults(agents.acme as AgentSocket, [sipAlgResult('udp', [])]);
    await expect.poll(() => page.locator('#run-status').innerText(), { timeout: 10_000 }).toContain('Check result arrived');
    expect(await page.locator('h3:has-text("SIP over UDP")').innerText()).toContain('clean');
  });

  it('never shows a technician limited to acme anything of globex: pages, site by id, socket.io frames', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const frames: string[] = [];
    page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
    await page.goto(`${server.base}/login`);
    await page.fill('input[name="username"]', 'acme-tech');
    await page.fill('input[name="password"]', passwords.tech as string);
    await page.click('button[type="submit"]');
    await page.waitForSelector('table.fleet tbody tr[data-site-id]');
    await expect.poll(() => page.locator('#live').getAttribute('data-connected')).toBe('true');
    expect(await page.locator('table.fleet tbody tr').count()).toBe(1);
    expect(await page.content()).not.toContain('globex');

    // globex first: by the time acme's update is on the page, globex's would have been too.
    await sendResults(agents.globex as AgentSocket, [stunResult('198.51.100.77', 1234)]);
    await sendResults(agents.acme as AgentSocket, [stunResult('203.0.113.9', 5555)]);
    await expect.poll(() => page.locator(`tr[data-site-id="${siteIds.acme}"]`).innerText(), { timeout: 10_000 }).toContain('203.0.113.9:5555');
    expect(frames.some((frame) => frame.includes('203.0.113.9'))).toBe(true);
    expect(frames.filter((frame) => frame.includes('globex') || frame.includes('198.51.100.77'))).toEqual([]);

    await page.goto(`${server.base}/sites/${siteIds.globex}`);
    await expect.poll(() => page.locator('h1').innerText()).toBe('No such site');
    await screenshot(page, 'technician-foreign-site');
  });

  it('enrolls a site in Settings, and the printed command connects a real agent', async () => {
    const page = await loggedInPage('admin', passwords.admin as string);
    await page.goto(`${server.base}/settings`);
    await page.fill('#enroll input[name="name"]', 'acme-branch');
    await page.fill('#enroll input[name="tenant"]', 'acme');
    await page.click('#enroll button[type="submit"]');
    const command = await page.locator('#agent-command').innerText();
    expect(command).toMatch(/^algwatch-agent run --server http:\/\/127\.0\.0\.1:\d+ --token [A-Za-z0-9_-]{43}$/);
    await screenshot(page, 'settings-enrolled');

    const agentDir = await mkdtemp(join(tmpdir(), 'algwatch-enrolled-agent-'));
    const args = command.split(' ').slice(1);
    const agent: ManagedProcess = startProcess(process.execPath, [AGENT_BIN, ...args, '--data-dir', agentDir]);
    cleanups.push(async () => {
      await agent.stop();
      await rm(agentDir, { recursive: true, force: true });
    });
    await page.goto(`${server.base}/`);
    const row = page.locator('tr:has(a:text-is("acme-branch"))');
    await expect
      .poll(async () => {
        await page.reload();
        await page.waitForSelector('table.fleet tbody tr[data-site-id]');
        return row.locator('td').nth(3).innerText();
      }, { timeout: 20_000, interval: 500 })
      .toBe('1 online / 0 offline');
  });

  it('lets a viewer read the fleet and a site but offers no way to change anything', async () => {
    const page = await loggedInPage('watcher', passwords.viewer as string);
    expect(await page.locator('table.fleet tbody tr').count()).toBeGreaterThanOrEqual(2);
    await page.goto(`${server.base}/sites/${siteIds.acme}`);
    await page.waitForSelector('#sip-diff h3');
    expect(await page.locator('#run-now').count()).toBe(0);
    await page.goto(`${server.base}/settings`);
    await page.waitForSelector('table.sites');
    expect(await page.locator('#enroll, button.revoke, #add-user').count()).toBe(0);
    const refused = await page.evaluate(async () => (await fetch('/api/sites', { method: 'POST', body: '{"name":"x"}' })).status);
    expect(refused).toBe(403);
  });

  it('adds a notification channel in Settings and its Test button delivers through the real notifier', async () => {
    const bodies: string[] = [];
    const receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const page = await loggedInPage('admin', passwords.admin as string);
    await page.goto(`${server.base}/settings`);
    await page.fill('#add-channel input[name="name"]', 'noc-hook');
    await page.fill('#add-channel input[name="tenant"]', 'acme');
    await page.selectOption('#add-channel select[name="kind"]', 'webhook');
    await page.fill('#add-channel input[name="target"]', `http://127.0.0.1:${(receiver.address() as { port: number }).port}/algwatch`);
    await page.fill('#add-channel input[name="extra"]', 'a-webhook-secret-0123456789abcdef');
    await page.click('#add-channel button[type="submit"]');
    const row = page.locator('tr[data-channel="noc-hook"]');
    await row.locator('button.test-channel').click();
    await expect.poll(() => row.locator('.channel-status').innerText(), { timeout: 15_000 }).toBe('test delivered');
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('acme');
    await screenshot(page, 'settings-channels');
  });

  it('shows the firing alert, acknowledges it and silences the site from the Alerts page; alert links by name open the site', async () => {
    await sendResults(agents.acme as AgentSocket, [sipAlgResult('udp', REWRITES)]);
    const page = await loggedInPage('admin', passwords.admin as string);
    const row = page.locator('#firing tr:has(a:text("acme / acme-hq")):has-text("SIP over UDP")');
    await expect
      .poll(async () => {
        await page.goto(`${server.base}/alerts`);
        await page.waitForSelector('h1:text("Alerts")');
        await page.waitForSelector('section');
        return row.count();
      }, { timeout: 20_000, interval: 1_000 })
      .toBe(1);
    await row.locator('button.ack').click();
    await expect.poll(() => row.locator('td').nth(4).innerText()).toContain('admin');
    await page.selectOption('#add-silence select[name="siteId"]', siteIds.acme as string);
    await page.fill('#add-silence input[name="reason"]', 'router swap tonight');
    await page.click('#add-silence button[type="submit"]');
    await expect.poll(() => page.locator('#silences').innerText()).toContain('router swap tonight');
    await screenshot(page, 'alerts');

    await page.goto(`${server.base}/sites/acme/acme-hq`);
    await expect.poll(() => page.locator('#site-title').innerText()).toContain('acme / acme-hq');
    expect(new URL(page.url()).pathname).toBe(`/sites/${siteIds.acme}`);
  });
});

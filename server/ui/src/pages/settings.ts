/**
 * Settings: placeholder filled in below (tenants, sites, users).
 */
import type { SessionUser } from '../api.js';

export async function showSettings(page: HTMLElement, user: SessionUser): Promise<void> {
  page.innerHTML = `<h1>Settings</h1><p>Logged in as ${user.name}.</p>`;
}

/** Formatting shared by the pages: escaping, times, and the words for states. */
import type { FleetRow } from '@algwatch/protocol/dashboard';

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'no result yet';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function clock(ms: number): string {
  return new Date(ms).toLocaleString();
}

const NAT_SHORT: Record<string, string> = {
  'endpoint-independent': 'EI',
  'address-dependent': 'AD',
  'address-and-port-dependent': 'APD',
  unknown: '?',
};

export function natText(row: FleetRow): string {
  if (row.natMapping === null && row.natFiltering === null) return '—';
  return `map ${NAT_SHORT[row.natMapping ?? 'unknown']} · filt ${NAT_SHORT[row.natFiltering ?? 'unknown']}`;
}

export function bindingText(row: FleetRow): string {
  if (row.bindingLifetimeS !== null) return `${row.bindingLifetimeS} s`;
  if (row.bindingOutlivedS !== null) return `> ${row.bindingOutlivedS} s`;
  return '—';
}

export function stateBadge(state: FleetRow['state']): string {
  return `<span class="badge ${state}">${state}</span>`;
}

/** Test helper: runs `site ...` in-process and captures what it prints. Used by tests only. */
import { siteCommand, type SiteCommandOptions } from './site.js';

export interface SiteRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runSiteCommand(argv: string[], options: Omit<SiteCommandOptions, 'stdout' | 'stderr'>): Promise<SiteRun> {
  let stdout = '';
  let stderr = '';
  const code = await siteCommand(argv, {
    ...options,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

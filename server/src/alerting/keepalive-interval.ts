/**
 * keepaliveIntervalSeconds reads the period of a site's keep-alive schedule when the cron
 * expression states one plainly (`*\/30 * * * * *` -> 30, `* * * * *` -> 60, `*\/5 * * * *` -> 300);
 * null for anything else (a list, a range), and the binding rule then uses its threshold.
 */
export function keepaliveIntervalSeconds(cron: string): number | null {
  const fields = cron.trim().split(/\s+/);
  const rest = (from: number) => fields.slice(from).every((field) => field === '*');
  const step = (field: string | undefined) => (field === '*' ? 1 : /^\*\/(\d+)$/.exec(field ?? '')?.[1]);
  if (fields.length === 6 && rest(2) && fields[1] === '*') {
    const seconds = step(fields[0]);
    return seconds === undefined ? null : Number(seconds);
  }
  if (fields.length === 5 && rest(1)) {
    const minutes = step(fields[0]);
    return minutes === undefined ? null : Number(minutes) * 60;
  }
  return null;
}

import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './durations.js';

describe('durations', () => {
  it('reads the forms operators type', () => {
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['', 'soon', '2 hours', '-5s', '1.5h', 'h']) expect(parseDuration(bad)).toBeNull();
  });

  it('writes durations back in the same form', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(parseDuration(formatDuration(4 * 3_600_000))).toBe(4 * 3_600_000);
  });
});

import { describe, expect, it } from 'vitest';
import { keepaliveIntervalSeconds } from './keepalive-interval.js';

describe('keep-alive interval', () => {
  it('reads plain periods of cron schedules', () => {
    expect(keepaliveIntervalSeconds('*/30 * * * * *')).toBe(30);
    expect(keepaliveIntervalSeconds('* * * * *')).toBe(60);
    expect(keepaliveIntervalSeconds('*/5 * * * *')).toBe(300);
  });
  it('gives up on anything else', () => {
    expect(keepaliveIntervalSeconds('0,30 * * * * *')).toBeNull();
    expect(keepaliveIntervalSeconds('0 */6 * * *')).toBeNull();
    expect(keepaliveIntervalSeconds('')).toBeNull();
  });
});

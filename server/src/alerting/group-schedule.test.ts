import { describe, expect, it } from 'vitest';
import { GroupSchedule } from './group-schedule.js';

const timing = { groupWaitMs: 30_000, groupIntervalMs: 60_000, repeatIntervalMs: 4 * 3_600_000 };

describe('group schedule', () => {
  it('waits group wait for a new group, so alerts raised together go out together', () => {
    const schedule = new GroupSchedule(timing);
    schedule.changed('hq', 0);
    schedule.changed('hq', 10_000);
    expect(schedule.due(29_999)).toEqual([]);
    expect(schedule.due(30_000)).toEqual(['hq']);
  });

  it('sends later changes no sooner than group interval after the last message', () => {
    const schedule = new GroupSchedule(timing);
    schedule.changed('hq', 0);
    schedule.flushed('hq', 30_000, true);
    schedule.changed('hq', 40_000);
    expect(schedule.due(89_999)).toEqual([]);
    expect(schedule.due(90_000)).toEqual(['hq']);
  });

  it('looks again after group interval while a silence holds an alert back', () => {
    const schedule = new GroupSchedule(timing);
    schedule.changed('hq', 0);
    schedule.flushed('hq', 30_000, true, true);
    expect(schedule.due(30_000 + timing.groupIntervalMs)).toEqual(['hq']);
  });

  it('repeats while firing and forgets the group once everything resolved', () => {
    const schedule = new GroupSchedule(timing);
    schedule.changed('hq', 0);
    schedule.flushed('hq', 30_000, true);
    expect(schedule.due(30_000 + timing.repeatIntervalMs)).toEqual(['hq']);
    schedule.flushed('hq', 30_000 + timing.repeatIntervalMs, false);
    expect(schedule.due(Number.MAX_SAFE_INTEGER)).toEqual([]);
    schedule.changed('hq', 1_000_000_000);
    expect(schedule.due(1_000_000_000 + timing.groupWaitMs)).toEqual(['hq']);
  });
});

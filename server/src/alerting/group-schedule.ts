/**
 * GroupSchedule decides when a site's group of alerts is due for a message, with Alertmanager's
 * timers: a new group waits `groupWaitMs` (so one router change that trips five rules gives one
 * message), later changes go out at most every `groupIntervalMs`, and while anything fires the
 * group is due again after `repeatIntervalMs`. Pure timing over the clock the caller passes.
 */
export interface GroupTiming {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

export const DEFAULT_GROUP_TIMING: GroupTiming = { groupWaitMs: 30_000, groupIntervalMs: 60_000, repeatIntervalMs: 4 * 3_600_000 };

interface GroupTimes {
  lastFlushAt: number | null;
  dueAt: number | null;
}

export class GroupSchedule {
  private readonly groups = new Map<string, GroupTimes>();

  constructor(private readonly timing: GroupTiming) {}

  /** changed notes that an alert of the group started firing or resolved at `now`; returns when the group is due. */
  changed(key: string, now: number): number {
    const group = this.groups.get(key) ?? { lastFlushAt: null, dueAt: null };
    const candidate = group.lastFlushAt === null ? now + this.timing.groupWaitMs : Math.max(now, group.lastFlushAt + this.timing.groupIntervalMs);
    group.dueAt = group.dueAt === null ? candidate : Math.min(group.dueAt, candidate);
    this.groups.set(key, group);
    return group.dueAt;
  }

  /** due lists the groups whose message is due at `now`. */
  due(now: number): string[] {
    const keys: string[] = [];
    for (const [key, group] of this.groups) if (group.dueAt !== null && group.dueAt <= now) keys.push(key);
    return keys;
  }

  /**
   * flushed notes a flush at `now`. While something still fires, the group repeats after the repeat
   * interval, or after the group interval when `recheck` (an alert was held back by a silence, and
   * must go out soon after the silence ends); once all resolved, the group is forgotten and the
   * next alert waits group wait again.
   */
  flushed(key: string, now: number, anyFiring: boolean, recheck = false): void {
    if (!anyFiring) {
      this.groups.delete(key);
      return;
    }
    this.groups.set(key, { lastFlushAt: now, dueAt: now + (recheck ? this.timing.groupIntervalMs : this.timing.repeatIntervalMs) });
  }
}

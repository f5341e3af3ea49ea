import { describe, expect, it } from 'vitest';
import { delayImpairment, eModelScore, G711_WITH_PLC, G711_WITHOUT_PLC, mosOfR } from './e-model.js';

describe('the G.107 E-model', () => {
  it('gives R = 93.2 and MOS 4.41 with every input at its default (G.107 §7.7), for G.711 whose Ie is 0', () => {
    expect(eModelScore({ oneWayDelayMs: 0, lossPct: 0 })).toEqual({ rFactor: 93.2, mos: 4.41 });
    expect(eModelScore({ oneWayDelayMs: 0, lossPct: 0, codec: G711_WITHOUT_PLC })).toEqual({ rFactor: 93.2, mos: 4.41 });
  });

  it('maps R to MOS as Annex B does: 1 at R ≤ 0, 4.5 at R ≥ 100, 3.6 at R = 70 (users satisfied), 2.58 at R = 50', () => {
    expect(mosOfR(-5)).toBe(1);
    expect(mosOfR(100)).toBe(4.5);
    expect(mosOfR(70)).toBeCloseTo(3.597, 3);
    expect(mosOfR(50)).toBeCloseTo(2.575, 3);
  });

  it('adds no delay impairment Idd up to 100 ms, and 25·((1+X⁶)^⅙ − 3(1+(X/3)⁶)^⅙ + 2) beyond (X = log2(Ta/100))', () => {
    expect(delayImpairment(100)).toBe(0);
    // Ta = 200 ms: X = 1, Idd = 25·(2^⅙ − 3·(1 + 1/729)^⅙ + 2) = 3.04
    expect(delayImpairment(200)).toBeCloseTo(3.045, 2);
  });

  it('charges random loss as Ie,eff = 95·Ppl/(Ppl + Bpl) with G.113\'s Bpl: 25.1 with G.711 PLC, 4.3 without', () => {
    expect(G711_WITH_PLC).toEqual({ ie: 0, bpl: 25.1 });
    expect(G711_WITHOUT_PLC).toEqual({ ie: 0, bpl: 4.3 });
    // 1 % without PLC: Ie,eff = 95/5.3 = 17.92 → R = 93.2 − 17.92 = 75.3
    expect(eModelScore({ oneWayDelayMs: 0, lossPct: 1, codec: G711_WITHOUT_PLC }).rFactor).toBe(75.3);
    // 5 % with PLC: Ie,eff = 475/30.1 = 15.78 → R = 77.4
    expect(eModelScore({ oneWayDelayMs: 0, lossPct: 5 }).rFactor).toBe(77.4);
  });

  it('rates worse as delay or loss grows', () => {
    const r = (oneWayDelayMs: number, lossPct: number) => eModelScore({ oneWayDelayMs, lossPct }).rFactor;
    expect(r(50, 0)).toBeGreaterThan(r(150, 0));
    expect(r(150, 0)).toBeGreaterThan(r(300, 0));
    expect(r(20, 1)).toBeGreaterThan(r(20, 5));
    expect(r(20, 5)).toBeGreaterThan(r(20, 20));
  });
});

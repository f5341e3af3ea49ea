/**
 * The ITU-T G.107 E-model (06/2015), reduced to what the rtp-path probe measures: one-way delay,
 * random packet loss and the codec. Every other input keeps G.107's default (Table 3: SLR 8, RLR 2,
 * STMR 15, LSTR 18, TELR 65, WEPL 110, Nc −70, Ps = Pr 35, qdu 1, A 0), so a call with no delay and no
 * loss scores R = 93.2, MOS 4.41, as G.107 §7.7 says.
 *
 *   R = Ro − Is − Id − Ie,eff + A
 *
 * - Ro − Is: 94.77 − 1.42, the values G.107's §7.2/§7.3 formulas give for the default inputs.
 * - Id = Idte + Idle + Idd (§7.4) with T = Ta = the one-way delay and Tr = 2T.
 * - Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl) (§7.5), BurstR 1 (random loss).
 * - MOS from R by G.107 Annex B (B.4).
 *
 * Codec values from ITU-T G.113 Appendix I (Tables I.1 and I.3): G.711 has Ie = 0; its packet-loss
 * robustness Bpl is 4.3 without packet loss concealment and 25.1 with the PLC of G.711 Appendix I.
 */

export interface CodecImpairment {
  /** Equipment impairment factor Ie (G.113 Appendix I, Table I.1). */
  ie: number;
  /** Packet-loss robustness factor Bpl (G.113 Appendix I, Table I.3). */
  bpl: number;
}

/** G.711 with the packet loss concealment of G.711 Appendix I, as IP phones ship: Ie 0, Bpl 25.1. */
export const G711_WITH_PLC: CodecImpairment = { ie: 0, bpl: 25.1 };
/** G.711 without packet loss concealment: Ie 0, Bpl 4.3. */
export const G711_WITHOUT_PLC: CodecImpairment = { ie: 0, bpl: 4.3 };

const RO = 94.77;
const IS = 1.42;
/** Talker echo loudness rating and weighted echo path loss, G.107 defaults. */
const TELR = 65;
const WEPL = 110;
/** Roe = −1.5 (No − RLR) at the default noise floor No = −61.18 dBm0p and RLR 2. */
const ROE = 94.77;

export interface EModelInput {
  /** Mouth-to-ear one-way delay Ta in ms (network + jitter buffer). */
  oneWayDelayMs: number;
  /** Random packet loss Ppl in percent, 0..100. */
  lossPct: number;
  codec?: CodecImpairment;
}

export interface EModelScore {
  rFactor: number;
  mos: number;
}

/** eModelScore rates a call: R rounded to 0.1, MOS to 0.01. Inputs out of range are clamped. */
export function eModelScore(input: EModelInput): EModelScore {
  const codec = input.codec ?? G711_WITH_PLC;
  const delay = Math.max(0, input.oneWayDelayMs);
  const loss = Math.min(100, Math.max(0, input.lossPct));
  const id = talkerEchoImpairment(delay) + listenerEchoImpairment(2 * delay) + delayImpairment(delay);
  const ieEff = codec.ie + ((95 - codec.ie) * loss) / (loss / 1 + codec.bpl);
  const r = RO - IS - id - ieEff;
  return { rFactor: Math.round(r * 10) / 10, mos: Math.round(mosOfR(r) * 100) / 100 };
}

/** mosOfR is G.107 Annex B's estimated MOS (conversational) for a rating R. */
export function mosOfR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/** Idd (§7.4): the impairment of absolute delay Ta, nil up to 100 ms. */
export function delayImpairment(ta: number): number {
  if (ta <= 100) return 0;
  const x = Math.log10(ta / 100) / Math.log10(2);
  return 25 * ((1 + x ** 6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2);
}

/** Idte (§7.4): talker echo at mean one-way delay T with the default echo loss TELR. */
function talkerEchoImpairment(t: number): number {
  const terv = TELR - 40 * Math.log10((1 + t / 10) / (1 + t / 150)) + 6 * Math.exp(-0.3 * t * t);
  const re = 80 + 2.5 * (terv - 14);
  const diff = ROE - re;
  return (diff / 2 + Math.sqrt((diff * diff) / 4 + 100) - 1) * (1 - Math.exp(-t));
}

/** Idle (§7.4): listener echo at round-trip delay Tr with the default WEPL. */
function listenerEchoImpairment(tr: number): number {
  const rle = 10.5 * (WEPL + 7) * (tr + 1) ** -0.25;
  const diff = RO - rle;
  return diff / 2 + Math.sqrt((diff * diff) / 4 + 169);
}

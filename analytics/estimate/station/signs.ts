/**
 * The tamper signs the station estimator raises (DOMAIN.md §6, dispensers), with their
 * bilingual texts. Codes are stable: the state layer and the dashboard key on them.
 */
export const STATION_SIGNS = {
  kfactor_change: { zh: '脉冲当量（K 系数）改变', en: 'pulses per litre (K-factor) changed' },
  totalizer_mismatch: { zh: '累计数增量与交易体积不符', en: 'totaliser increment differs from the transaction volume' },
  totalizer_stuck: { zh: '累计数停止而交易继续', en: 'totaliser stopped while transactions go on' },
  events: { zh: '铅封、参数或认证事件组合', en: 'combination of seal, parameter or authentication events' },
  event_error_change: { zh: '事件后误差改变', en: 'error changed after a seal, parameter or firmware event' },
  peer_deviation: { zh: '与同罐其他枪偏差过大', en: 'deviates from the other nozzles on the same tank' },
  tank_loss: { zh: '油罐存在未记录的损耗', en: 'unrecorded loss from the tank' },
} as const;

export type StationSignCode = keyof typeof STATION_SIGNS;

export const SIGN_CODES = Object.keys(STATION_SIGNS) as StationSignCode[];

/** index of a code in SIGN_CODES, for per-code cooldown arrays */
export const SIGN_INDEX: { readonly [C in StationSignCode]: number } = Object.fromEntries(SIGN_CODES.map((c, i) => [c, i])) as {
  [C in StationSignCode]: number;
};

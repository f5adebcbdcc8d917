/** The instrument kinds driftwatch watches and the regions it serves: shared by every part. */
export const KINDS = ['meter', 'dispenser', 'tank', 'scale'] as const;
export type Kind = (typeof KINDS)[number];

/** Shanghai, Jiangsu, Zhejiang, Anhui: the Yangtze River Delta. */
export const REGIONS = ['SH', 'JS', 'ZJ', 'AH'] as const;
export type Region = (typeof REGIONS)[number];

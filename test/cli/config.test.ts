import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../cli/config.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 8080, MQTT_PORT: 1883, DATA_DIR: './data', SIM_DEVICES: 320, HOST: '127.0.0.1' });
  });
  it('names every bad setting', () => {
    expect(() => loadConfig({ PORT: 'eighty', SIM_SPEED: '-1' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', SIM_SPEED: '-1' });
    } catch (e) {
      expect((e as Error).message).toContain('PORT="eighty"');
      expect((e as Error).message).toContain('SIM_SPEED="-1"');
    }
  });
});

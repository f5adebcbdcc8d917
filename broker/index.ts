/** The broker part: the embedded MQTT broker, and the consumer of an external one. */
export { createBroker, DEFAULT_LIMITS, type Broker, type BrokerLimits, type BrokerOptions } from './broker.js';
export { createExternalSource, type ExternalSource, type ExternalSourceOptions, type ExternalSourceStats } from './external.js';
export { BrokerErrors, MQTT_OUTCOME, ConnectRefusal, type BrokerErrorCode } from './errors.js';
export type { DeviceAuthenticator, ServiceAccount, Identity } from './identity.js';
export type { BrokerStats } from './stats.js';
export { deviceTopics, parseDeviceTopic, READINGS_FILTER, STATUS_FILTER, type Channel, type DeviceTopics } from './topics.js';

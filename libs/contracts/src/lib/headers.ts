/** Kafka record headers the bridge sets on `telemetry.raw`, so the payload bytes stay untouched. */
export const HEADER_MQTT_TOPIC = 'aiot-mqtt-topic';

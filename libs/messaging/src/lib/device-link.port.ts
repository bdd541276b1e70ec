/** A message received from devices over MQTT. */
export interface DeviceMessage {
  topic: string;
  payload: Buffer;
  /** ms since epoch, when the bridge received it. */
  receivedAt: number;
  /** True when the broker flagged it as a redelivery (DUP, MQTT 5 §3.3.1.1). */
  duplicate: boolean;
}

/**
 * Handles a batch of device messages. The messages are acknowledged to the MQTT broker (PUBACK)
 * only after the promise resolves; on rejection they are not acknowledged and the broker
 * redelivers them from the persistent session after reconnect.
 */
export type DeviceBatchHandler = (batch: DeviceMessage[]) => Promise<void>;

export interface DeviceConsumeOptions {
  /** Topic filters, e.g. `aiot/+/+/+/+/telemetry`. */
  filters: string[];
  /** MQTT 5 shared subscription group ($share/<group>/<filter>, MQTT 5 §4.8.2): replicas split the load. */
  shareGroup?: string;
  handler: DeviceBatchHandler;
}

export interface DevicePublish {
  topic: string;
  payload: Buffer | string;
  qos: 0 | 1;
  retain?: boolean;
}

/** The device-side broker port (MQTT). */
export interface DeviceLink {
  consume(options: DeviceConsumeOptions): Promise<void>;
  publish(messages: DevicePublish[]): Promise<void>;
  isConnected(): boolean;
  /** Stops taking new messages, waits for handlers in flight (and their PUBACKs), disconnects. */
  close(): Promise<void>;
}

export const DEVICE_LINK = Symbol.for('aiot.DeviceLink');

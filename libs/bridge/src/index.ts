export * from './lib/bridge.config';
export * from './lib/uplink.router';
export * from './lib/foreign.uplink';
export * from './lib/foreign-uplink.samples';
export * from './lib/downlink.router';
export * from './lib/bridge.service';
export * from './lib/bridge.env';
export * from './lib/bridge.module';

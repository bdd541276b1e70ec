import { createMqttDeviceLink } from '@aiot/messaging';
import { runSimulatorCli } from '@aiot/simulator';

// Thin bootstrap: options, simulation and pacing live in @aiot/simulator; MQTT in @aiot/messaging.
void runSimulatorCli(process.argv.slice(2), { createLink: createMqttDeviceLink }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sensor-simulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);

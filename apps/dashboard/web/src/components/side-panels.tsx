import type { ModelInfo, ServiceHealth } from '@aiot/dashboard-api';
import { ago } from '../format';

/** Health details in words: a stream's volume and age, a probe's or check's own fields. */
function describeDetails(s: ServiceHealth): string {
  const d = s.details;
  if (!d) return '';
  if (s.kind === 'stream') {
    const records = typeof d['records'] === 'number' ? d['records'].toLocaleString('en') : '?';
    return `${records} record${d['records'] === 1 ? '' : 's'} · last ${typeof d['lastSeenAt'] === 'number' ? ago(d['lastSeenAt'], s.checkedAt) : '–'}`;
  }
  return Object.entries(d)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en') : String(v)}`)
    .join(' · ');
}

export function ModelsPanel({ models }: { models: ModelInfo[] }) {
  return (
    <section class="panel" aria-labelledby="models-title" data-testid="models">
      <header class="panel-head">
        <h2 id="models-title">Models in use</h2>
      </header>
      {models.length === 0 ? (
        <p class="empty">No predictions yet. Versions appear as the inference service scores rooms.</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Version</th>
              <th scope="col" class="num">
                Predictions
              </th>
              <th scope="col">Last</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={`${m.model}@${m.version}`} data-testid={`model-${m.model}-${m.version}`}>
                <td>{m.model}</td>
                <td>
                  <code>{m.version}</code>
                </td>
                <td class="num">{m.predictions.toLocaleString('en')}</td>
                <td>{ago(m.lastSeen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function ServicesPanel({ services }: { services: ServiceHealth[] }) {
  return (
    <section class="panel" aria-labelledby="services-title" data-testid="services">
      <header class="panel-head">
        <h2 id="services-title">Service health</h2>
      </header>
      <ul class="services">
        {services.map((s) => {
          const status = s.up === null ? 'unknown' : s.up ? 'up' : 'down';
          const detail = describeDetails(s);
          return (
            <li key={s.name} class={`svc svc-${status}`} data-testid={`service-${s.name.replace(/[^a-zA-Z0-9.-]+/g, '-')}`}>
              <span class="dot" aria-hidden="true" />
              <span class="svc-name">{s.name}</span>
              <span class="svc-status">{status === 'unknown' ? 'waiting' : status}</span>
              {detail && <span class="svc-detail">{detail}</span>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

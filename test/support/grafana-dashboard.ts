/** The parts of a Grafana dashboard JSON model the dashboard tests read. */
export interface GrafanaTarget {
  refId: string;
  expr?: string;
  rawSql?: string;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  datasource?: { type: string; uid: string };
}

/**
 * What is wrong with a dashboard's layout: duplicate panel ids, panels wider than the 24-column
 * grid or overlapping another, panels not on the `${datasource}` variable of `datasourceType`.
 */
export function dashboardProblems(panels: GrafanaPanel[], datasourceType: string): string[] {
  const problems: string[] = [];
  const ids = panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) problems.push(`duplicate panel ids: ${ids.join(',')}`);
  const cells = new Map<string, string>();
  for (const p of panels) {
    const g = p.gridPos;
    if (g.x + g.w > 24) problems.push(`${p.title} is wider than the grid`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        const key = `${x},${y}`;
        if (cells.has(key)) problems.push(`${p.title} overlaps ${cells.get(key)} at ${key}`);
        cells.set(key, p.title);
      }
    }
    if (p.type !== 'row' && (p.datasource?.type !== datasourceType || p.datasource?.uid !== '${datasource}')) {
      problems.push(`${p.title} is not on the \${datasource} variable of type ${datasourceType}`);
    }
  }
  return problems;
}

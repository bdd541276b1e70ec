import { matchesCalicoSelector, matchesLabelSelector, parseCalicoSelector } from './selectors';

const labels = { 'aiot.io/floor': 'floor-1', 'app.kubernetes.io/name': 'kafka', tier: 'backend' };

describe('Calico selectors', () => {
  it.each([
    ["aiot.io/floor == 'floor-1'", true],
    ["aiot.io/floor == 'floor-2'", false],
    ["aiot.io/floor != 'floor-2'", true],
    ["missing != 'x'", true],
    ['has(aiot.io/floor)', true],
    ['!has(aiot.io/floor)', false],
    ['all()', true],
    ['', true],
    ['global()', false],
    ["app.kubernetes.io/name in {'kafka', 'mosquitto'}", true],
    ["app.kubernetes.io/name not in {'kafka'}", false],
    ["missing not in {'kafka'}", true],
    ["tier contains 'end'", true],
    ["tier starts with 'back'", true],
    ["tier ends with 'back'", false],
    ["has(x) || tier == 'backend' && !has(aiot.io/floor)", false],
    ["(has(x) || tier == 'backend') && has(aiot.io/floor)", true],
  ])('%s -> %s', (sel, want) => {
    expect(matchesCalicoSelector(sel, labels)).toBe(want);
  });
  it('reports where a selector is wrong', () => {
    expect(() => parseCalicoSelector("app = 'x'")).toThrow(/invalid Calico selector/);
    expect(() => parseCalicoSelector("has(app")).toThrow(/expected '\)'/);
    expect(() => parseCalicoSelector("app == 'x' &&")).toThrow(/unexpected end/);
  });
});

describe('Kubernetes label selectors', () => {
  it('matchLabels and matchExpressions are ANDed; {} matches all', () => {
    expect(matchesLabelSelector({}, labels)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { tier: 'backend' }, matchExpressions: [{ key: 'aiot.io/floor', operator: 'In', values: ['floor-1'] }] }, labels)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { tier: 'backend' }, matchExpressions: [{ key: 'aiot.io/floor', operator: 'NotIn', values: ['floor-1'] }] }, labels)).toBe(false);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, labels)).toBe(false);
  });
});

import type { K8sObject } from './policy/model';
import { allows, grantsFor, helmAccesses, riskyRules } from './rbac';

const obj = (kind: string, name: string, extra: Record<string, unknown>, namespace?: string): K8sObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, namespace }, ...extra });
const sa = { kind: 'ServiceAccount' as const, name: 'bot', namespace: 'ops' };
const subjects = [{ kind: 'ServiceAccount', name: 'bot', namespace: 'ops' }];
const rules = [{ apiGroups: [''], resources: ['configmaps', 'pods/log'], verbs: ['get', 'create'] }];

describe('offline RBAC evaluation', () => {
  it('a RoleBinding grants inside its namespace only, a ClusterRoleBinding everywhere', () => {
    const viaRole = grantsFor([obj('ClusterRole', 'cm', { rules }), obj('RoleBinding', 'b', { roleRef: { kind: 'ClusterRole', name: 'cm' }, subjects }, 'team-a')], sa);
    expect(allows(viaRole, { verb: 'get', group: '', resource: 'configmaps', namespace: 'team-a' })).toBe(true);
    expect(allows(viaRole, { verb: 'get', group: '', resource: 'configmaps', namespace: 'team-b' })).toBe(false);
    expect(allows(viaRole, { verb: 'delete', group: '', resource: 'configmaps', namespace: 'team-a' })).toBe(false);
    expect(allows(viaRole, { verb: 'get', group: '', resource: 'pods/log', namespace: 'team-a' })).toBe(true);
    expect(allows(viaRole, { verb: 'get', group: '', resource: 'pods', namespace: 'team-a' })).toBe(false);
    const viaCluster = grantsFor([obj('ClusterRole', 'cm', { rules }), obj('ClusterRoleBinding', 'b', { roleRef: { kind: 'ClusterRole', name: 'cm' }, subjects })], sa);
    expect(allows(viaCluster, { verb: 'get', group: '', resource: 'configmaps', namespace: 'team-b' })).toBe(true);
  });

  it('another subject, or a ServiceAccount of the same name elsewhere, gets nothing', () => {
    const objs = [obj('ClusterRole', 'cm', { rules }), obj('ClusterRoleBinding', 'b', { roleRef: { kind: 'ClusterRole', name: 'cm' }, subjects })];
    expect(grantsFor(objs, { ...sa, namespace: 'floor-1' })).toEqual([]);
    expect(grantsFor(objs, { kind: 'User', name: 'bot' })).toEqual([]);
  });

  it('lists what helm needs per rendered object, and refuses kinds it does not know', () => {
    const need = helmAccesses([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'floor-1' } }]);
    expect(need.map((a) => `${a.verb} ${a.group}/${a.resource} ${a.namespace}`)).toEqual(
      expect.arrayContaining(['create apps/deployments floor-1', 'patch apps/deployments floor-1', 'list apps/replicasets floor-1', 'create /secrets aiot-system']),
    );
    expect(() => helmAccesses([{ apiVersion: 'x/v1', kind: 'Gadget', metadata: { name: 'g' } }])).toThrow(/no RBAC resource known for kind Gadget/);
  });

  it('a rule with resourceNames grants named requests for those objects only, never create, list or watch', () => {
    const named = [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['mine'], verbs: ['get', 'create', 'list', 'delete'] }];
    const g = grantsFor([obj('ClusterRole', 'n', { rules: named }), obj('ClusterRoleBinding', 'b', { roleRef: { kind: 'ClusterRole', name: 'n' }, subjects })], sa);
    expect(allows(g, { verb: 'get', group: '', resource: 'secrets', namespace: 'x', name: 'mine' })).toBe(true);
    expect(allows(g, { verb: 'delete', group: '', resource: 'secrets', namespace: 'x', name: 'mine' })).toBe(true);
    expect(allows(g, { verb: 'get', group: '', resource: 'secrets', namespace: 'x', name: 'other' })).toBe(false);
    expect(allows(g, { verb: 'get', group: '', resource: 'secrets', namespace: 'x' })).toBe(false);
    expect(allows(g, { verb: 'create', group: '', resource: 'secrets', namespace: 'x' })).toBe(false);
    expect(allows(g, { verb: 'list', group: '', resource: 'secrets', namespace: 'x', name: 'mine' })).toBe(false);
    // helm reads a Secret back by name and never lists or watches one.
    const need = helmAccesses([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mine', namespace: 'floor-1' } }]).filter((a) => a.namespace === 'floor-1');
    expect(need.map((a) => `${a.verb} ${a.name ?? '-'}`)).toEqual(['get mine', 'create -', 'patch mine', 'delete mine']);
  });

  it('Secrets in a ClusterRole: only create or named ones pass', () => {
    const ok = riskyRules([obj('ClusterRole', 'r', { rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }, { apiGroups: [''], resources: ['secrets'], resourceNames: ['a'], verbs: ['get', 'patch'] }] })]);
    expect(ok).toEqual([]);
    const bad = riskyRules([obj('ClusterRole', 'r', { rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['a'], verbs: ['list'] }] })]);
    expect(bad).toEqual(['ClusterRole r rule 0: Secrets in every namespace']);
  });

  it('flags rules that escalate', () => {
    const risky = riskyRules([obj('ClusterRole', 'r', { rules: [{ apiGroups: ['*'], resources: ['secrets'], verbs: ['get', 'bind'] }, { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }] })]);
    expect(risky).toEqual(['ClusterRole r rule 0: wildcard in apiGroups', 'ClusterRole r rule 0: verb bind', 'ClusterRole r rule 0: Secrets in every namespace', 'ClusterRole r rule 1: pods/exec']);
  });
});

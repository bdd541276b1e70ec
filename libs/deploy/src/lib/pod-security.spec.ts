/* eslint-disable @typescript-eslint/no-explicit-any -- pod specs are mutated freely to build each violation */
import { restrictedViolations } from './pod-security';

const hardened = () => ({
  securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'data', persistentVolumeClaim: { claimName: 'x' } }],
});

describe('restricted Pod Security profile', () => {
  it('admits a hardened pod', () => {
    expect(restrictedViolations(hardened())).toEqual([]);
  });

  it.each([
    ['hostPath volume', (p: any) => p.volumes.push({ name: 'h', hostPath: { path: '/' } }), /volume h: hostPath/],
    ['hostPort', (p: any) => (p.containers[0].ports = [{ containerPort: 1883, hostPort: 1883 }]), /hostPort 1883/],
    ['hostNetwork', (p: any) => (p.hostNetwork = true), /hostNetwork is true/],
    ['no runAsNonRoot', (p: any) => delete p.securityContext.runAsNonRoot, /runAsNonRoot must be true/],
    ['root uid', (p: any) => (p.securityContext.runAsUser = 0), /pod: runAsUser 0/],
    ['no seccomp', (p: any) => delete p.securityContext.seccompProfile, /seccompProfile must be RuntimeDefault/],
    ['privilege escalation', (p: any) => delete p.containers[0].securityContext.allowPrivilegeEscalation, /allowPrivilegeEscalation must be false/],
    ['capabilities kept', (p: any) => (p.containers[0].securityContext.capabilities = { drop: ['NET_RAW'] }), /must drop ALL/],
    ['capability added', (p: any) => (p.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']), /SYS_ADMIN added/],
    ['privileged init container', (p: any) => (p.initContainers = [{ name: 'init', securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }]), /initContainer init: privileged/],
    ['nfs volume', (p: any) => p.volumes.push({ name: 'n', nfs: { server: 'x', path: '/' } }), /volume n: type nfs is not allowed/],
  ])('refuses %s', (_what, mutate, message) => {
    const pod = hardened();
    mutate(pod);
    expect(restrictedViolations(pod).join('\n')).toMatch(message);
  });

  it('accepts container-level settings in place of pod-level ones', () => {
    const pod = hardened() as Record<string, any>;
    pod['securityContext'] = {};
    pod['containers'][0].securityContext = { allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' }, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } };
    expect(restrictedViolations(pod)).toEqual([]);
  });
});

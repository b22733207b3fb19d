// The Kubernetes base in deploy/kubernetes: every resource validates against the Kubernetes
// JSON schemas (kubernetes-models), and the settings the relay depends on hold together.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'deploy', 'kubernetes');

/** apiVersion → the kubernetes-models module holding its kinds. */
const MODULES = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
};

function load(file) {
  const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
  for (const doc of docs) assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
  return docs.map((d) => d.toJS()).filter((d) => d !== null);
}

const kustomization = load('kustomization.yaml')[0];
const resources = kustomization.resources.flatMap((file) => load(file).map((obj) => ({ file, obj })));
const byKind = (kind) => {
  const found = resources.filter((r) => r.obj.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind} in the base`);
  return found[0].obj;
};
const secretTemplate = load('secret.example.yaml')[0];
// The relay's drain time on SIGTERM, from the source of truth (shared/src/limits.ts).
const drainMs = Number(/drainTimeoutMs:\s*([\d_]+)/.exec(readFileSync(join(root, 'shared', 'src', 'limits.ts'), 'utf8'))[1].replaceAll('_', ''));

test('kustomization lists every manifest of the folder but the Secret template', () => {
  assert.equal(kustomization.apiVersion, 'kustomize.config.k8s.io/v1beta1');
  assert.equal(kustomization.kind, 'Kustomization');
  assert.deepEqual([...kustomization.resources].sort(), ['configmap.yaml', 'deployment.yaml', 'hpa.yaml', 'ingress.yaml', 'pdb.yaml', 'service.yaml']);
  assert.ok(!kustomization.resources.includes('secret.example.yaml'), 'the placeholder Secret must never be applied');
  // Kustomize adds the labels to selectors too (includeSelectors): they must not be edited per file.
  assert.equal(kustomization.labels[0].includeSelectors, true);
});

test('every resource (and the Secret template) validates against the Kubernetes schemas', async () => {
  for (const { file, obj } of [...resources, { file: 'secret.example.yaml', obj: secretTemplate }]) {
    const module = MODULES[obj.apiVersion];
    assert.ok(module, `${file}: unexpected apiVersion ${obj.apiVersion}`);
    const Kind = (await import(module))[obj.kind];
    assert.equal(typeof Kind, 'function', `${file}: ${obj.apiVersion} has no kind ${obj.kind}`);
    assert.doesNotThrow(() => new Kind(obj).validate(), `${file}: ${obj.kind} ${obj.metadata?.name}`);
  }
});

test('the validation is real: a broken Deployment is rejected', async () => {
  const { Deployment } = await import('kubernetes-models/apps/v1');
  const broken = JSON.parse(JSON.stringify(byKind('Deployment')));
  broken.spec.replicas = 'three';
  assert.throws(() => new Deployment(broken).validate(), /replicas must be integer/);
});

test('relay pod: probes, drain time, non-root, read-only root', () => {
  const deployment = byKind('Deployment');
  const pod = deployment.spec.template.spec;
  const [relay] = pod.containers;
  assert.equal(relay.readinessProbe.httpGet.path, '/readyz');
  assert.equal(relay.livenessProbe.httpGet.path, '/healthz');
  const preStopMs = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(relay.lifecycle.preStop.exec.command.join(' '))?.[1] ?? 0);
  assert.ok(pod.terminationGracePeriodSeconds * 1000 >= preStopMs + drainMs,
    `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} s < preStop ${preStopMs} ms + drain ${drainMs} ms`);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, 10001, 'the uid the image runs as (deploy/Dockerfile)');
  assert.equal(relay.securityContext.readOnlyRootFilesystem, true);
  assert.equal(relay.securityContext.allowPrivilegeEscalation, false);
  // What the relay writes goes to volumes.
  assert.deepEqual(relay.volumeMounts.map((m) => m.mountPath).sort(), ['/data', '/tmp']);
  assert.ok(relay.resources.requests.cpu && relay.resources.requests.memory && relay.resources.limits.memory);
  // The HPA scales on CPU utilisation, which needs a CPU request.
  assert.equal(byKind('HorizontalPodAutoscaler').spec.metrics[0].resource.name, 'cpu');
});

test('every Secret key the Deployment reads is in the Secret template; Redis needs both secrets', () => {
  const relay = byKind('Deployment').spec.template.spec.containers[0];
  const refs = relay.env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.valueFrom.secretKeyRef);
  assert.ok(refs.length > 0);
  for (const ref of refs) {
    assert.equal(ref.name, secretTemplate.metadata.name);
    assert.ok(Object.hasOwn(secretTemplate.stringData, ref.key), `Secret template lacks ${ref.key}`);
  }
  const names = relay.env.map((e) => e.name);
  for (const name of ['TETHER_ADMIN_TOKEN', 'TETHER_CLUSTER_SECRET', 'TETHER_REDIS_URL', 'TETHER_ADVERTISE_URL', 'TETHER_NODE_ID']) assert.ok(names.includes(name), name);
  // Listening on 0.0.0.0 with Redis is refused without an advertise URL (docs/cluster.md).
  assert.equal(relay.env.find((e) => e.name === 'TETHER_HOST').value, '0.0.0.0');
  const configMap = byKind('ConfigMap');
  for (const ref of relay.envFrom) assert.equal(ref.configMapRef.name, configMap.metadata.name);
});

test('PDB and HPA agree with the replica count', () => {
  const replicas = byKind('Deployment').spec.replicas;
  const pdb = byKind('PodDisruptionBudget').spec;
  const hpa = byKind('HorizontalPodAutoscaler').spec;
  assert.ok((pdb.minAvailable === undefined) !== (pdb.maxUnavailable === undefined), 'PDB: exactly one of minAvailable, maxUnavailable');
  const allowed = pdb.maxUnavailable ?? replicas - pdb.minAvailable;
  assert.ok(allowed >= 1, 'the PDB must allow evicting one pod, or node drains block');
  assert.ok(allowed < replicas, 'the PDB must keep at least one pod');
  assert.equal(hpa.scaleTargetRef.kind, 'Deployment');
  assert.equal(hpa.scaleTargetRef.name, byKind('Deployment').metadata.name);
  assert.ok(hpa.minReplicas <= replicas && replicas <= hpa.maxReplicas);
  assert.ok(hpa.minReplicas - allowed >= 1);
});

test('Service targets the container port the image exposes; Ingress keeps WebSockets for an hour', () => {
  const dockerfile = readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8');
  const exposed = Number(/^EXPOSE (\d+)$/m.exec(dockerfile)[1]);
  const envPort = Number(/TETHER_PORT=(\d+)/.exec(dockerfile)[1]);
  const deployment = byKind('Deployment');
  const relay = deployment.spec.template.spec.containers[0];
  const port = relay.ports.find((p) => p.name === 'http');
  assert.equal(port.containerPort, exposed);
  assert.equal(port.containerPort, envPort);
  assert.equal(Number(relay.env.find((e) => e.name === 'TETHER_PORT').value), exposed);
  const service = byKind('Service');
  const [servicePort] = service.spec.ports;
  assert.ok(servicePort.targetPort === port.name || servicePort.targetPort === port.containerPort);
  for (const [key, value] of Object.entries(service.spec.selector)) assert.equal(deployment.spec.template.metadata.labels[key], value);
  for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(deployment.spec.template.metadata.labels[key], value);
  const ingress = byKind('Ingress');
  for (const key of ['proxy-read-timeout', 'proxy-send-timeout']) {
    assert.ok(Number(ingress.metadata.annotations[`nginx.ingress.kubernetes.io/${key}`]) >= 3600, key);
  }
  const backend = ingress.spec.rules[0].http.paths[0].backend.service;
  assert.equal(backend.name, service.metadata.name);
  assert.equal(backend.port.name, servicePort.name);
});

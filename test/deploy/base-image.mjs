// The local base image of the container tests: no registry is reachable here (TESTING.md), so
// a Debian bookworm root file system from debootstrap plus this machine's node and npm is
// imported as localhost/tether-base:bookworm. The root file system is cached by content in
// ~/.cache/tether/deploy-base (outside the repository; debootstrap takes ~30 s here), and the
// image is rebuilt only when the node binary or npm changes (the key is a label on the image).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, cpSync, renameSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const BASE_IMAGE = 'localhost/tether-base:bookworm';
const SUITE = 'bookworm';

/** podman with the flags this VM needs (TESTING.md: runc, cgroupfs). */
export function podman(args, options = {}) {
  return execFileSync('podman', ['--runtime', 'runc', '--cgroup-manager=cgroupfs', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...options });
}

function nodeKey() {
  const node = realpathSync(process.execPath);
  const npmDir = realpathSync(join(dirname(node), '..', 'lib', 'node_modules', 'npm'));
  const npmVersion = JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')).version;
  const hash = createHash('sha256').update(readFileSync(node)).update(`npm ${npmVersion} ${SUITE} minbase v1`).digest('hex').slice(0, 16);
  return { node, npmDir, hash };
}

/** Makes sure BASE_IMAGE exists for this node; returns what it did, for the log. */
export function ensureBaseImage() {
  const { node, npmDir, hash } = nodeKey();
  try {
    const label = podman(['image', 'inspect', '--format', '{{index .Labels "tether.base.key"}}', BASE_IMAGE]).trim();
    if (label === hash) return `${BASE_IMAGE} up to date (key ${hash})`;
  } catch {
    // Not there yet.
  }
  const cache = join(homedir(), '.cache', 'tether', 'deploy-base');
  const rootfs = join(cache, `${SUITE}-rootfs`);
  if (!existsSync(join(rootfs, 'etc', 'debian_version'))) {
    mkdirSync(cache, { recursive: true });
    const tmp = `${rootfs}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    execFileSync('debootstrap', ['--variant=minbase', SUITE, tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
    // Keep the cached tree small: package lists and caches are not needed in the image.
    rmSync(join(tmp, 'var', 'cache', 'apt', 'archives'), { recursive: true, force: true });
    renameSync(tmp, rootfs);
  }
  // The root file system alone is one image (imported once per cache); node and npm go on top
  // of it in a second layer, from a small folder laid out like /usr/local.
  const rootfsImage = 'localhost/tether-rootfs:bookworm';
  try {
    podman(['image', 'exists', rootfsImage]);
  } catch {
    execFileSync('bash', ['-o', 'pipefail', '-c', `tar -C "$1" -c . | podman import - ${rootfsImage}`, 'import', rootfs], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const stage = join(cache, `stage-${hash}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'bin'), { recursive: true });
  mkdirSync(join(stage, 'lib', 'node_modules'), { recursive: true });
  cpSync(node, join(stage, 'bin', 'node'));
  cpSync(npmDir, join(stage, 'lib', 'node_modules', 'npm'), { recursive: true, verbatimSymlinks: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(stage, 'bin', 'npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(stage, 'bin', 'npx'));
  const containerfile = join(cache, `Containerfile-${hash}`);
  writeFileSync(containerfile, [
    `FROM ${rootfsImage}`,
    'COPY . /usr/local/',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `LABEL tether.base.key=${hash}`,
    'CMD ["node"]',
    '',
  ].join('\n'));
  try {
    podman(['build', '--format', 'docker', '-t', BASE_IMAGE, '-f', containerfile, stage], { stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    rmSync(stage, { recursive: true, force: true });
    rmSync(containerfile, { force: true });
  }
  return `${BASE_IMAGE} imported (key ${hash})`;
}

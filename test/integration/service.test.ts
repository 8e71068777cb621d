// Starts at boot: the systemd unit install.sh writes (systemd-analyze verify, its sandbox), and install.sh --service/--uninstall-service with root's commands recorded instead of run.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT_DIR } from '../../src/server/paths.js';
import { runTempRoot, tempDir } from '../helpers/processes.js';

const GENERATOR = path.join(ROOT_DIR, 'scripts/service-unit.sh');
const NODE = realpathSync(process.execPath);

/** run — a command's exit status and output (no shell). */
function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT_DIR, input: opts.input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** unit — what the generator prints for these arguments (the same call install.sh makes). */
function unit(args: string[] = []): string {
  const r = run(GENERATOR, args);
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout;
}

/** settings — a unit's [Service] section: each key with all its values, in order. */
function settings(text: string, section = 'Service'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      current = head[1]!;
      continue;
    }
    if (current !== section) continue;
    const eq = line.indexOf('=');
    out.set(line.slice(0, eq), [...(out.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** verify — systemd-analyze verify on `text` saved as hearth.service; fails loudly without systemd-analyze. */
function verify(text: string): { status: number | null; output: string } {
  const which = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error('systemd-analyze is missing: install the systemd package (scripts/test-setup.sh does)');
  const file = path.join(tempDir('unit'), 'hearth.service');
  writeFileSync(file, text);
  const r = run('systemd-analyze', ['verify', file]);
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

describe('the systemd unit (scripts/service-unit.sh, as install.sh --service writes it)', function () {
  this.timeout(60_000);

  it('names this checkout and the node running it, and passes systemd-analyze verify without a warning', () => {
    // ExecStart's program must exist for verify, and the service runs the build.
    expect(existsSync(path.join(ROOT_DIR, 'dist/server/main.js')), 'dist/server/main.js (npm run build)').to.equal(true);
    const text = unit();
    expect(text).not.to.match(/@[A-Z_]+@/);
    const s = settings(text);
    expect(s.get('ExecStart')).to.deep.equal([`${NODE} ${realpathSync(ROOT_DIR)}/dist/server/main.js`]);
    expect(s.get('WorkingDirectory')).to.deep.equal([realpathSync(ROOT_DIR)]);
    // verify prints unknown keys and bad values as warnings and still exits 0: any output fails.
    expect(verify(text)).to.deep.equal({ status: 0, output: '' });
  });

  it('runs Hearth as the hearth user in a sandbox: restarts on failure, writes only /var/lib/hearth, may bind port 443 and nothing more', () => {
    const s = settings(unit());
    const one = (key: string) => {
      expect(s.get(key), key).to.have.length(1);
      return s.get(key)![0];
    };
    expect(one('Type')).to.equal('simple');
    expect(one('User')).to.equal('hearth');
    expect(one('Restart')).to.equal('on-failure');
    expect(s.get('Environment')).to.include.members(['DATA_DIR=/var/lib/hearth', 'CERTS_DIR=/var/lib/hearth/certs']);
    expect(one('EnvironmentFile')).to.equal('-/etc/hearth.env');
    expect(one('NoNewPrivileges')).to.equal('yes');
    expect(one('ProtectSystem')).to.equal('strict');
    expect(one('ReadWritePaths')).to.equal('/var/lib/hearth');
    expect(one('StateDirectory')).to.equal('hearth');
    expect(one('PrivateTmp')).to.equal('yes');
    // This checkout is not in a home directory, so homes are hidden altogether.
    expect(one('ProtectHome')).to.equal('yes');
    expect(s.has('BindReadOnlyPaths')).to.equal(false);
    expect(one('AmbientCapabilities')).to.equal('CAP_NET_BIND_SERVICE');
    expect(one('CapabilityBoundingSet')).to.equal('CAP_NET_BIND_SERVICE');
    // Hearth stops its Redis and TURN children itself; leftovers are killed with it.
    expect(one('KillMode')).to.equal('mixed');
    expect(Number(one('TimeoutStopSec'))).to.be.greaterThan(5);
    expect(s.has('MemoryDenyWriteExecute'), 'V8 needs writable executable memory').to.equal(false);
    expect(settings(unit(), 'Install').get('WantedBy')).to.deep.equal(['multi-user.target']);
  });

  it('for a checkout in a home directory: every home is an empty tmpfs with the checkout (and node from nvm) bound read-only, and it verifies', () => {
    const inHome = unit(['--repo', '/home/ana/hearth', '--node', NODE]);
    const s = settings(inHome);
    expect(s.get('ProtectHome')).to.deep.equal(['tmpfs']);
    expect(s.get('BindReadOnlyPaths')).to.deep.equal(['/home/ana/hearth']);
    expect(s.get('ExecStart')).to.deep.equal([`${NODE} /home/ana/hearth/dist/server/main.js`]);
    expect(verify(inHome)).to.deep.equal({ status: 0, output: '' });
    const nvm = settings(unit(['--repo', '/home/ana/hearth', '--node', '/home/ana/.nvm/versions/node/v20.19.0/bin/node']));
    expect(nvm.get('BindReadOnlyPaths')).to.deep.equal(['/home/ana/hearth /home/ana/.nvm/versions/node/v20.19.0']);
    expect(settings(unit(['--repo', '/root/hearth'])).get('ProtectHome')).to.deep.equal(['tmpfs']);
  });

  it('refuses paths a unit file would read otherwise (spaces, %, $, quotes) and unknown arguments', () => {
    for (const repo of ['/srv/my hearth', '/srv/100%', '/srv/$HOME', '/srv/"x"', 'relative/../../x y']) {
      const r = run(GENERATOR, ['--repo', repo]);
      expect(r.status, repo).to.equal(1);
      expect(r.stdout, repo).to.equal('');
      expect(r.stderr, repo).to.match(/cannot put .* in a unit file/);
    }
    const bad = run(GENERATOR, ['--user', 'root']);
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/unknown argument: --user/);
  });
});

describe('install.sh --service and --uninstall-service', function () {
  this.timeout(60_000);

  it('answers --help, and refuses unknown or conflicting options before doing anything', () => {
    const help = run('./install.sh', ['--help']);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.match(/--service/).and.to.match(/--uninstall-service/).and.to.match(/--purge/);
    for (const args of [['--bogus'], ['--service', '--uninstall-service'], ['--uninstall-service', '--service'], ['--purge'], ['--service', '--purge']]) {
      const r = run('./install.sh', args);
      expect(r.status, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/Usage: \.\/install\.sh|--purge goes with/);
      expect(r.stdout, args.join(' ')).not.to.match(/==>/);
    }
  });

  /**
   * fakeCheckout — a built checkout in a temp dir (the service's scripts, dist, node_modules...),
   * with some files closed to others, a CA from `npm start` and its data.
   */
  function fakeCheckout(opts: { openParents?: boolean } = {}): string {
    const parent = tempDir('checkout');
    // Temp folders are closed to others (0700); the hearth user must pass through the folders above a checkout.
    if (opts.openParents !== false) for (const d of [runTempRoot(), parent]) chmodSync(d, statSync(d).mode | 0o001);
    const dir = path.join(parent, 'hearth');
    for (const d of ['scripts', 'dist/server', 'node_modules/dep', 'public', 'views', 'certs', 'var/redis']) mkdirSync(path.join(dir, d), { recursive: true });
    for (const f of ['service-unit.sh', 'hearth.service.in', 'install-service.sh', 'gen-certs.sh']) {
      writeFileSync(path.join(dir, 'scripts', f), readFileSync(path.join(ROOT_DIR, 'scripts', f)));
      chmodSync(path.join(dir, 'scripts', f), statSync(path.join(ROOT_DIR, 'scripts', f)).mode);
    }
    writeFileSync(path.join(dir, 'dist/server/main.js'), '');
    writeFileSync(path.join(dir, 'package.json'), '{}');
    writeFileSync(path.join(dir, 'node_modules/dep/index.js'), '', { mode: 0o600 });
    chmodSync(path.join(dir, 'views'), 0o700);
    writeFileSync(path.join(dir, 'certs/ca.crt'), 'cert');
    writeFileSync(path.join(dir, 'certs/ca.key'), 'key', { mode: 0o600 });
    chmodSync(dir, 0o700);
    return dir;
  }

  /**
   * asRecordedRoot — runs install-service.sh's `fn` in `dir` the way install.sh does, with
   * as_root recording each command instead of running it (nothing on this machine changes):
   * files it would install are saved in `<dir>.installed/`, and `test` answers `exists`.
   */
  function asRecordedRoot(dir: string, fn: string, exists: boolean): { status: number | null; out: string; root: string[]; installed: (name: string) => string } {
    const saved = `${dir}.installed`;
    mkdirSync(saved, { recursive: true });
    const script = `
      set -euo pipefail
      say() { printf '==> %s\\n' "$*"; }
      die() { printf 'install.sh: %s\\n' "$*" >&2; exit 1; }
      as_root() {
        printf '%s\\n' "$*" >> ${JSON.stringify(`${saved}/commands`)}
        case "$1" in
          install) if [ "\${@: -2:1}" = /dev/stdin ]; then cat > ${JSON.stringify(saved)}/"$(basename "\${@: -1}")"; fi ;;
          test) ${exists ? 'return 0' : 'return 1'} ;;
        esac
      }
      . scripts/install-service.sh
      ${fn}`;
    const r = run('bash', ['-c', script], { cwd: dir });
    const commands = existsSync(`${saved}/commands`) ? readFileSync(`${saved}/commands`, 'utf8').trim().split('\n') : [];
    return { status: r.status, out: r.stdout + r.stderr, root: commands, installed: (name) => readFileSync(path.join(saved, name), 'utf8') };
  }

  it('--service: a system user without a login shell, the generated unit, only what Hearth reads opened to it, the CA carried over; without systemd it says what to run', () => {
    const dir = fakeCheckout();
    const r = asRecordedRoot(dir, 'install_service', false);
    expect(r.status, r.out).to.equal(0);
    // Where the user does not exist yet it is created (here only recorded: the suite changes no system users).
    expect(r.root).to.include('useradd --system --user-group --home-dir /var/lib/hearth --no-create-home --shell /usr/sbin/nologin --comment Hearth meeting place hearth');
    expect(r.root).to.include('install -d -o hearth -g hearth -m 0750 /var/lib/hearth');
    expect(r.root).to.include(`runuser -u hearth -- test -r ${dir}/dist/server/main.js`);
    // The unit installed is exactly what the generator makes for this checkout.
    expect(r.installed('hearth.service')).to.equal(unit(['--repo', dir]));
    expect(r.installed('hearth.env')).to.match(/^#PORT=443$/m);
    expect(r.root).to.include('install -m 0644 /dev/stdin /etc/systemd/system/hearth.service');
    expect(r.root).to.include('install -m 0600 /dev/stdin /etc/hearth.env');
    // Closed files Hearth reads are opened to others; the CA's key and the data are not.
    expect(statSync(path.join(dir, 'node_modules/dep/index.js')).mode & 0o004).to.equal(0o004);
    expect(statSync(path.join(dir, 'views')).mode & 0o005).to.equal(0o005);
    expect(statSync(dir).mode & 0o001).to.equal(0o001);
    expect(statSync(path.join(dir, 'certs/ca.key')).mode & 0o077).to.equal(0);
    expect(r.root).to.include(`install -o hearth -g hearth -m 0600 certs/ca.key /var/lib/hearth/certs/ca.key`);
    expect(r.out).to.include(`the accounts and rooms of 'npm start' are in ${dir}/var`);
    // This machine's PID 1 is not systemd (a container): nothing is started, and it says what to run.
    if (existsSync('/run/systemd/system')) {
      expect(r.root.slice(-3)).to.deep.equal(['systemctl daemon-reload', 'systemctl enable hearth.service', 'systemctl restart hearth.service']);
    } else {
      expect(r.root.some((c) => c.startsWith('systemctl'))).to.equal(false);
      expect(r.out).to.include('sudo systemctl daemon-reload && sudo systemctl enable --now hearth');
    }
  });

  it('--service refuses a checkout the hearth user cannot reach (a folder above it closed to others), before installing anything', () => {
    const dir = fakeCheckout({ openParents: false });
    const r = asRecordedRoot(dir, 'install_service', false);
    expect(r.status).to.equal(1);
    expect(r.out).to.include(`the hearth user cannot enter ${path.dirname(dir)} (it is closed to others)`);
    expect(r.root, 'nothing done as root').to.deep.equal([]);
  });

  it('--uninstall-service removes the unit and keeps the data and the user, saying so; --purge removes them too', () => {
    const dir = fakeCheckout();
    const kept = asRecordedRoot(dir, 'uninstall_service no', true);
    expect(kept.status, kept.out).to.equal(0);
    expect(kept.root).to.include('rm -f /etc/systemd/system/hearth.service');
    expect(kept.root.some((c) => c.includes('rm -rf') || c.startsWith('userdel'))).to.equal(false);
    expect(kept.out).to.include('Kept /var/lib/hearth').and.to.include('--uninstall-service --purge');
    const purged = asRecordedRoot(fakeCheckout(), 'uninstall_service yes', true);
    expect(purged.status, purged.out).to.equal(0);
    expect(purged.root).to.include('rm -rf /var/lib/hearth /etc/hearth.env');
  });
});

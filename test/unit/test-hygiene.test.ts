// The test suite's own rules: no test skips itself (a broken feature would pass silently), temp
// folders are made only through tempDir() and go when their test or suite ends, and the run can
// find every process it started.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT_DIR } from '../../src/server/paths.js';
import { killPid, ownProcesses, runTempRoot, tempDir } from '../helpers/processes.js';

const TEST_DIR = path.join(ROOT_DIR, 'test');
const SELF = path.join(TEST_DIR, 'unit', 'test-hygiene.test.ts');

/** testFiles — every TypeScript file under test/, except this one (it names what it forbids). */
function testFiles(dir = TEST_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return e.name.endsWith('.ts') && p !== SELF ? [p] : [];
  });
}

/** offending — `file:line: text` for every line of the test files matching `re`, outside `allowed` files. */
function offending(re: RegExp, allowed: string[] = []): string[] {
  return testFiles().filter((f) => !allowed.includes(f)).flatMap((f) => readFileSync(f, 'utf8').split('\n')
    .flatMap((line, i) => (re.test(line) ? [`${path.relative(ROOT_DIR, f)}:${i + 1}: ${line.trim()}`] : [])));
}

describe('test hygiene', () => {
  describe('no test skips itself', () => {
    it('no test file calls this.skip(), it.skip, describe.skip, xit/xdescribe or .only', () => {
      expect(testFiles().length, 'the scan finds the test files').to.be.above(10);
      const skipping = offending(/\.skip\s*\(|\b(it|describe|context|specify)\.(skip|only)\b|\bx(it|describe|context|specify)\s*\(|\b(it|describe|context|specify)\.only\s*\(/);
      expect(skipping, 'a test that cannot run must fail, saying why').to.deep.equal([]);
    });

    it('mocha is told to fail a pending (skipped) or exclusive (.only) test anyway', () => {
      const rc = createRequire(import.meta.url)(path.join(ROOT_DIR, '.mocharc.cjs')) as Record<string, unknown>;
      expect(rc['forbid-pending']).to.equal(true);
      expect(rc['forbid-only']).to.equal(true);
    });

    it('and mocha does: a test calling this.skip() fails the run', function () {
      this.timeout(30_000);
      const probe = tempDir('skip-probe');
      const file = path.join(probe, 'skips.test.ts');
      writeFileSync(file, "describe('probe', () => { it('skips', function () { this.skip(); }); });\n");
      const r = spawnSync(process.execPath, [path.join(ROOT_DIR, 'node_modules', 'mocha', 'bin', 'mocha.js'), file], { cwd: ROOT_DIR, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).to.not.equal(0);
      expect(r.stdout).to.include('Pending test forbidden');
    });
  });

  describe('temp folders', () => {
    it('are made only through tempDir() (test/helpers/processes.ts), never straight in /tmp', () => {
      const helper = path.join(TEST_DIR, 'helpers', 'processes.ts');
      expect(offending(/mkdtemp|tmpdir\(\)|['"`]\/tmp\b/, [helper])).to.deep.equal([]);
    });

    it('all sit in this run\'s folder, /tmp/hearth-run-<pid>-XXXXXX/, which TMPDIR also points at', () => {
      const root = runTempRoot();
      expect(path.basename(root)).to.match(new RegExp(`^hearth-run-${process.pid}-[A-Za-z0-9]{6}$`));
      expect(path.dirname(tempDir('where'))).to.equal(root);
      expect(os.tmpdir()).to.equal(root);
      expect(process.env.TMPDIR).to.equal(root);
    });

    const seen: { suite?: string; test?: string; hook?: string } = {};
    describe('made in a suite', () => {
      before(() => {
        seen.suite = tempDir('hygiene-suite');
      });
      beforeEach(() => {
        seen.hook = tempDir('hygiene-each');
      });
      it('exist while their test runs', () => {
        seen.test = tempDir('hygiene-test');
        for (const dir of [seen.suite!, seen.hook!, seen.test]) expect(existsSync(dir), dir).to.equal(true);
      });
      it('go when the test that made them ends (also one made in beforeEach); the suite\'s stay', () => {
        expect(existsSync(seen.test!), 'made in the previous test').to.equal(false);
        expect(existsSync(seen.suite!), 'made in before()').to.equal(true);
      });
    });
    describe('after that suite', () => {
      it('its folders are gone', () => {
        expect(existsSync(seen.suite!), 'made in before() of the finished suite').to.equal(false);
        expect(existsSync(seen.hook!), 'made in beforeEach()').to.equal(false);
      });
    });
  });

  describe('processes', () => {
    it('the run finds what it started, also a grandchild whose parent has exited (re-parented to PID 1)', async function () {
      this.timeout(20_000);
      // sh starts sleep in the background and exits at once: sleep's parent becomes PID 1.
      const sh = spawn('sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      sh.stdout.on('data', (d) => (out += d));
      await once(sh, 'exit');
      const pid = Number(out.trim());
      try {
        let found = ownProcesses().find((p) => p.pid === pid);
        // Right after the fork the child still shows sh's command line until it has exec'd sleep.
        for (let i = 0; i < 40 && (found?.parentPid === process.pid || found?.command !== 'sleep 30'); i++) {
          await sleep(50);
          found = ownProcesses().find((p) => p.pid === pid);
        }
        expect(found, `sleep (${pid}) among ${JSON.stringify(ownProcesses())}`).to.not.equal(undefined);
        expect(found!.parentPid).to.not.equal(process.pid);
        expect(found!.command).to.equal('sleep 30');
      } finally {
        killPid(pid);
      }
    });
  });
});

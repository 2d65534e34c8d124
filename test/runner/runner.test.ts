// The Python runner's CPU tests (plan, config handling, data pipeline, doctor
// without torch) run once through unittest_records.py, and every Python test
// becomes a node test of its own, so the summary line counts each one: a skipped
// Python test (the GPU tests skip here with their reason) is a skipped node test,
// a failure or error fails with its traceback.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
// scripts/test-all.sh picks an interpreter that has PyYAML.
const PYTHON = process.env.TUNELAB_PYTHON ?? 'python3';
// Fewer than this means discovery lost tests, not that they passed.
const MIN_PYTHON_TESTS = 40;

interface PythonTestRecord {
  id: string;
  outcome: 'pass' | 'fail' | 'error' | 'skip';
  reason: string | null;
  details: string | null;
}

interface PythonSuiteRun {
  records: PythonTestRecord[];
  status: number | null;
  signal: NodeJS.Signals | null;
  spawnError: Error | undefined;
  output: string;
}

function parseRecord(line: string): PythonTestRecord {
  try {
    return JSON.parse(line) as PythonTestRecord;
  } catch {
    return { id: '(unreadable record)', outcome: 'error', reason: null, details: line };
  }
}

function runPythonSuite(): PythonSuiteRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-python-tests-'));
  const recordsFile = path.join(dir, 'records.jsonl');
  try {
    const result = spawnSync(PYTHON, [path.join(__dirname, 'unittest_records.py'), recordsFile], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    const text = fs.existsSync(recordsFile) ? fs.readFileSync(recordsFile, 'utf8') : '';
    return {
      records: text.split('\n').filter(Boolean).map(parseRecord),
      status: result.status,
      signal: result.signal,
      spawnError: result.error,
      output: `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim(),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Synchronous, so that the tests below can be declared one per Python test.
const suite = runPythonSuite();

for (const record of suite.records) {
  test(`python: ${record.id}`, (t) => {
    if (record.outcome === 'skip') {
      t.skip(record.reason ?? 'skipped');
      return;
    }
    if (record.outcome !== 'pass') assert.fail(`${record.outcome}\n${record.details ?? ''}`);
  });
}

test('the Python suite ran to its end with enough tests', () => {
  const tail = suite.output.split('\n').slice(-30).join('\n');
  assert.equal(suite.spawnError, undefined, `cannot run ${PYTHON}: ${suite.spawnError?.message}`);
  assert.equal(suite.signal, null, `the Python suite was killed (${suite.signal}):\n${tail}`);
  assert.ok(
    suite.records.length >= MIN_PYTHON_TESTS,
    `expected at least ${MIN_PYTHON_TESTS} Python tests, got ${suite.records.length}:\n${tail}`,
  );
  // Exit status 1 with every record passing would be a crash of the recorder itself.
  const failed = suite.records.some((r) => r.outcome === 'fail' || r.outcome === 'error');
  assert.equal(suite.status, failed ? 1 : 0, `unexpected exit status ${suite.status}:\n${tail}`);
  console.log(suite.output.split('\n').slice(-3).join('\n'));
});

test('`python -m tunelab_runner plan` resolves every template without torch', () => {
  for (const method of ['full', 'lora', 'qlora']) {
    const config = path.join(ROOT, 'templates', 'telecom-support', `${method}.finetune.yaml`);
    const result = spawnSync(PYTHON, ['-m', 'tunelab_runner', 'plan', config], {
      cwd: path.join(ROOT, 'runner'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const plan = JSON.parse(result.stdout);
    assert.equal(typeof plan, 'object');
    assert.match(JSON.stringify(plan), new RegExp(method === 'full' ? 'Llama-3.2-1B' : 'Llama-3.1-8B'));
  }
});

// Artefacts of a local run on a real temp output dir laid out as the runner
// and the Trainer leave it: listing with sizes, eval metrics per checkpoint
// (from trainer_state.json and from events), the config hash; delete, keep
// best, and refusals of paths outside the output directory.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  ArtefactError,
  checkDeletable,
  deleteArtefacts,
  keepBest,
  listArtefacts,
  locateArtefacts,
  parseRemoteListing,
  planKeepBest,
} from './artefacts';
import type { RunRecord } from './runRecord';

const CONFIG = `method: lora
model:
  name_or_path: Qwen/Qwen2.5-0.5B
training:
  output_dir: runs/out
`;

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

const event = (step: number, metrics: Record<string, number>) =>
  JSON.stringify({ event: 'eval', step, metrics, v: 1 });

/** A project with a finished run's output dir; returns the record and the dir. */
function project(config = CONFIG): { record: RunRecord; out: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-artefacts-'));
  write(path.join(dir, 'run.finetune.yaml'), config);
  const out = path.join(dir, 'runs', 'out');
  // checkpoint-10: eval loss only in trainer_state.json (the Trainer's own record).
  write(
    path.join(out, 'checkpoint-10', 'trainer_state.json'),
    JSON.stringify({
      log_history: [
        { step: 10, loss: 2 },
        { step: 10, eval_loss: 1.5 },
      ],
    }),
  );
  write(path.join(out, 'checkpoint-10', 'adapter_model.safetensors'), 'x'.repeat(1000));
  // checkpoint-20 and -30: eval losses from the runner's events.
  write(path.join(out, 'checkpoint-20', 'adapter_model.safetensors'), 'x'.repeat(1000));
  write(path.join(out, 'checkpoint-30', 'adapter_model.safetensors'), 'x'.repeat(1000));
  write(
    path.join(out, 'events.jsonl'),
    [
      event(20, { eval_loss: 1.2, eval_accuracy: 0.5 }),
      event(30, { eval_loss: 1.3, eval_accuracy: 0.7 }),
    ].join('\n'),
  );
  write(path.join(out, 'adapter', 'adapter_model.safetensors'), 'a'.repeat(300));
  write(path.join(out, 'merged', 'model.safetensors'), 'm'.repeat(5000));
  write(path.join(out, 'eval.json'), '{"format":1}');
  write(path.join(out, 'tunelab-config.json'), JSON.stringify({ sha256: 'sha256:abc123' }));
  const record = {
    version: 1,
    id: 'run-1',
    config: path.join(dir, 'run.finetune.yaml'),
    target: 'local',
    runDir: path.join(dir, '.tunelab', 'runs'),
    logPath: path.join(dir, '.tunelab', 'runs', 'run-1.log'),
    logOffset: 0,
    state: 'completed',
    command: [],
    secretNames: [],
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  } as RunRecord;
  return { record, out, dir };
}

test('lists checkpoints with their eval metrics, adapter, merged, eval.json and the config hash', async () => {
  const { record, out } = project();
  const listing = await listArtefacts(record);
  assert.equal(listing.outputDir, out);
  assert.equal(listing.baseModel, 'Qwen/Qwen2.5-0.5B');
  assert.equal(listing.configHash, 'sha256:abc123');
  const byName = new Map(listing.artefacts.map((a) => [a.name, a]));
  assert.deepEqual(
    listing.artefacts.map((a) => [a.kind, a.name]),
    [
      ['checkpoint', 'checkpoint-10'],
      ['checkpoint', 'checkpoint-20'],
      ['checkpoint', 'checkpoint-30'],
      ['adapter', 'adapter'],
      ['merged', 'merged'],
      ['eval', 'eval.json'],
      ['config', 'tunelab-config.json'],
    ],
  );
  assert.equal(byName.get('checkpoint-10')?.metrics?.eval_loss, 1.5);
  assert.equal(byName.get('checkpoint-20')?.metrics?.eval_loss, 1.2);
  assert.equal(byName.get('checkpoint-30')?.metrics?.eval_accuracy, 0.7);
  assert.equal(byName.get('merged')?.bytes, 5000);
  assert.equal(byName.get('adapter')?.bytes, 300);
  assert.equal(byName.get('checkpoint-10')?.step, 10);
});

test('a missing output dir lists nothing and says so', async () => {
  const { record, out } = project();
  fs.rmSync(out, { recursive: true });
  const listing = await listArtefacts(record);
  assert.equal(listing.missing, true);
  assert.deepEqual(listing.artefacts, []);
});

test('keep best keeps the lowest eval loss, or the best of a chosen metric', async () => {
  const { record, out } = project();
  const plan = await keepBest(record);
  assert.equal(plan.best.name, 'checkpoint-20');
  assert.deepEqual(
    fs.readdirSync(out).filter((n) => n.startsWith('checkpoint')),
    ['checkpoint-20'],
  );
  assert.ok(fs.existsSync(path.join(out, 'adapter')), 'keep best touches checkpoints only');

  const other = project();
  const byAccuracy = await keepBest(other.record, { metric: 'accuracy' });
  assert.equal(byAccuracy.best.name, 'checkpoint-30', 'higher accuracy is better');
  assert.deepEqual(
    fs.readdirSync(other.out).filter((n) => n.startsWith('checkpoint')),
    ['checkpoint-30'],
  );
});

test('keep best refuses when no checkpoint has the metric', async () => {
  const { record, out } = project();
  const listing = await listArtefacts(record);
  assert.throws(() => planKeepBest(listing, 'eval_bleu'), ArtefactError);
  assert.equal(fs.readdirSync(out).filter((n) => n.startsWith('checkpoint')).length, 3);
});

test('deletes one artefact and refuses paths outside the output dir', async () => {
  const { record, out, dir } = project();
  await deleteArtefacts(record, [path.join(out, 'merged')]);
  assert.ok(!fs.existsSync(path.join(out, 'merged')));
  const location = locateArtefacts(record);
  for (const bad of [
    out,
    dir,
    path.join(dir, 'run.finetune.yaml'),
    path.join(out, '..', 'out2'),
    path.join(out, 'adapter', '..', '..', 'x'),
    path.join(out, 'adapter', 'adapter_model.safetensors'),
    '/',
  ])
    assert.throws(() => checkDeletable(location, bad), ArtefactError, bad);
  await assert.rejects(deleteArtefacts(record, [path.join(out, 'adapter'), dir]), ArtefactError);
  assert.ok(fs.existsSync(path.join(out, 'adapter')), 'nothing deleted when one path is refused');
  assert.ok(fs.existsSync(record.config));
});

test('a merged export outside the output dir is listed but not deletable', async () => {
  const { record, dir } = project(`${CONFIG}export:\n  merge: true\n  output_dir: exports/m\n`);
  write(path.join(dir, 'exports', 'm', 'model.safetensors'), 'm'.repeat(70));
  const listing = await listArtefacts(record);
  const merged = listing.artefacts.filter((a) => a.kind === 'merged');
  assert.deepEqual(
    merged.map((a) => [a.path, a.bytes, a.deletable]),
    [[path.join(dir, 'exports', 'm'), 70, false]],
  );
  await assert.rejects(deleteArtefacts(record, [merged[0].path]), ArtefactError);
});

test('the remote listing output is parsed section by section', () => {
  const raw = parseRemoteListing(
    [
      '@@tunelab-artefacts list',
      'd checkpoint-5',
      'f eval.json',
      '@@tunelab-artefacts sizes',
      '4096\t./checkpoint-5',
      '12\t./eval.json',
      '@@tunelab-artefacts export',
      '@@tunelab-artefacts meta',
      '{"sha256":"sha256:ff"}',
      '@@tunelab-artefacts events',
      event(5, { eval_loss: 0.9 }),
      '',
    ].join('\n'),
  );
  assert.deepEqual(raw?.entries, [
    { name: 'checkpoint-5', directory: true, bytes: 4096 },
    { name: 'eval.json', directory: false, bytes: 12 },
  ]);
  assert.equal(raw?.meta, '{"sha256":"sha256:ff"}');
  assert.equal(parseRemoteListing('@@tunelab-artefacts missing\n'), undefined);
});

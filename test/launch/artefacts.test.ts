// Artefacts of an ssh run against the loopback sshd (scripts/setup-ssh-slurm.sh):
// the output dir is laid out on the remote host as the runner leaves it below
// the run's workdir, then listed in one ssh call, an artefact deleted, the best
// checkpoint kept, and paths outside the output dir refused. A hostile file
// name in the output dir must stay a name (no code, no canary).

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { test } from 'node:test';
import {
  ArtefactError,
  deleteArtefacts,
  keepBest,
  listArtefacts,
} from '../../launch/src/artefacts';
import type { RunRecord } from '../../launch/src/runRecord';
import { shQuote } from '../../launch/src/shell';
import { completedRecord } from '../support/runRecords';
import { BASE_CONFIG, loadInfra, makeProject, remoteShell, type Infra } from './infra';

const { infra, skip } = loadInfra();
const I = infra as Infra;

// No slash allowed in a file name: the canary is created relative to wherever it would run.
const HOSTILE = "a'; touch pwned; echo '$(touch pwned2)";

function sshRecord(config: string, workdir: string): RunRecord {
  return completedRecord({
    id: 'ssh-run',
    config,
    target: 'ssh',
    ssh: { host: I.sshAlias, destination: I.sshAlias },
    runDir: `${workdir}/.tunelab/runs/ssh-run`,
    logPath: `${workdir}/.tunelab/runs/ssh-run/log`,
    workdir,
  });
}

const evalEvent = (step: number, loss: number) =>
  JSON.stringify({ event: 'eval', step, metrics: { eval_loss: loss }, v: 1 });

test('ssh: artefacts are listed, deleted and pruned on the run host', { skip }, async () => {
  const workdir = `~/tl-artefacts-${crypto.randomBytes(3).toString('hex')}`;
  const { config } = makeProject(
    BASE_CONFIG +
      `launch:\n  target: ssh\n  ssh: { host: ${I.sshAlias}, workdir: ${JSON.stringify(workdir)} }\n`,
  );
  const out = `${workdir}/runs/out`;
  const o = `"$HOME"/${out.slice(2)}`;
  // The layout the runner leaves: checkpoints, adapter, merged, eval.json, config meta, events.
  remoteShell(
    I,
    [
      `mkdir -p ${o}/checkpoint-1 ${o}/checkpoint-2 ${o}/adapter ${o}/merged ${o}/../../.tunelab/runs/ssh-run`,
      `head -c 1000 /dev/zero > ${o}/checkpoint-1/adapter_model.safetensors`,
      `head -c 1000 /dev/zero > ${o}/checkpoint-2/adapter_model.safetensors`,
      `head -c 4000 /dev/zero > ${o}/merged/model.safetensors`,
      `echo '{"format":1}' > ${o}/eval.json`,
      `echo '{"sha256": "sha256:feed"}' > ${o}/tunelab-config.json`,
      `echo '${evalEvent(1, 0.8)}' > ${o}/events.jsonl`,
      // Step 2's eval only in the run log, as a runner event line.
      `echo '@tunelab ${evalEvent(2, 0.6)}' > ${o}/../../.tunelab/runs/ssh-run/log`,
      `echo keep > ${o}/../keep.txt`,
      `: > ${o}/${shQuote(HOSTILE)}`,
    ].join(' && '),
  );
  try {
    const record = sshRecord(config, workdir);
    const listing = await listArtefacts(record, I.sshConfig);
    assert.equal(listing.outputDir, out);
    assert.equal(listing.configHash, 'sha256:feed');
    assert.equal(listing.baseModel, 'meta-llama/Llama-3.1-8B');
    const byName = new Map(listing.artefacts.map((a) => [a.name, a]));
    assert.equal(byName.get('checkpoint-1')?.metrics?.eval_loss, 0.8);
    assert.equal(byName.get('checkpoint-2')?.metrics?.eval_loss, 0.6);
    assert.ok((byName.get('merged')?.bytes ?? 0) >= 4000);
    assert.equal(byName.get('merged')?.kind, 'merged');
    assert.equal(byName.get('eval.json')?.kind, 'eval');
    assert.ok(byName.has(HOSTILE), 'the hostile name is listed as a name');

    await assert.rejects(
      deleteArtefacts(record, [`${workdir}/runs/keep.txt`], I.sshConfig),
      ArtefactError,
    );
    await assert.rejects(deleteArtefacts(record, [out], I.sshConfig), ArtefactError);
    await deleteArtefacts(record, [`${out}/merged`, `${out}/${HOSTILE}`], I.sshConfig);
    const plan = await keepBest(record, { sshConfigFile: I.sshConfig });
    assert.equal(plan.best.name, 'checkpoint-2');

    const left = remoteShell(I, `ls -A ${o}`).trim().split('\n').sort();
    assert.deepEqual(left, [
      'adapter',
      'checkpoint-2',
      'eval.json',
      'events.jsonl',
      'tunelab-config.json',
    ]);
    assert.equal(remoteShell(I, `cat ${o}/../keep.txt`).trim(), 'keep');
    const pwned = `for d in "$HOME" ${o} ${o}/..; do ls "$d"; done | grep -c pwned || true`;
    assert.equal(remoteShell(I, pwned).trim(), '0', 'no file name ran as code');
  } finally {
    remoteShell(I, `rm -rf "$HOME"/${workdir.slice(2)}`);
  }
});

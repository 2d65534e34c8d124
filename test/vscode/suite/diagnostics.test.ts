import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import {
  codeOf,
  diagnostics,
  fmtRange,
  open,
  rangeOf,
  sleep,
  summarize,
  waitForCodes,
} from './helpers';

describe('diagnostics', () => {
  it('reports an unknown key on its exact range, with "did you mean"', async () => {
    const doc = await open('bad.finetune.yaml');
    const ds = await waitForCodes(doc.uri, ['schema-unknown-key']);
    const expected = rangeOf(doc, 'lora_rank:', 'lora_rank');
    const d = ds.find((x) => codeOf(x) === 'schema-unknown-key' && x.range.isEqual(expected));
    assert.ok(
      d,
      `schema-unknown-key on ${fmtRange(expected)} (lora_rank); got ${JSON.stringify(ds.map(summarize))}`,
    );
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(d.message, /did you mean/i);
    assert.match(d.message, /\br\b/, 'suggests `r`');
  });

  it('reports a wrong enum value on the value', async () => {
    const doc = await open('bad.finetune.yaml');
    const ds = await waitForCodes(doc.uri, ['schema-enum']);
    const expected = rangeOf(doc, 'lr_scheduler_type:', 'cosinus');
    const d = ds.find((x) => codeOf(x) === 'schema-enum' && x.range.isEqual(expected));
    assert.ok(
      d,
      `schema-enum on ${fmtRange(expected)} (cosinus); got ${JSON.stringify(ds.map(summarize))}`,
    );
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.match(d.message, /cosine/, 'names the valid value');
  });

  it('gives schema codes a documentation link when the code is an object', async () => {
    const doc = await open('bad.finetune.yaml');
    const ds = await waitForCodes(doc.uri, ['schema-unknown-key']);
    for (const d of ds) {
      assert.ok(codeOf(d), `every diagnostic has a code: ${JSON.stringify(summarize(d))}`);
      if (typeof d.code === 'object') {
        assert.ok(d.code.target instanceof vscode.Uri, 'code.target is a Uri');
        assert.ok(
          d.code.target.toString(true).includes(String(d.code.value)),
          `the link names the rule: ${d.code.target.toString(true)}`,
        );
      }
    }
  });

  it('reports no schema problem on a valid config', async () => {
    const doc = await open('ok.finetune.yaml');
    // Wait until the server has certainly answered for a sibling file.
    await waitForCodes((await open('bad.finetune.yaml')).uri, ['schema-unknown-key']);
    await sleep(1000);
    const ds = diagnostics(doc.uri);
    const bad = ds.filter(
      (d) =>
        d.severity === vscode.DiagnosticSeverity.Error ||
        /^(schema-|yaml-syntax)/.test(codeOf(d) ?? ''),
    );
    assert.deepEqual(bad.map(summarize), [], 'no errors or schema findings on ok.finetune.yaml');
  });

  it('stays silent on a YAML file that is not a fine-tuning config', async () => {
    const other = await open('other.yaml');
    assert.equal(other.languageId, 'yaml');
    // Give the server time to handle it: a config opened after it gets its
    // diagnostics, then wait a little longer.
    await waitForCodes((await open('bad.finetune.yaml')).uri, ['schema-unknown-key']);
    await open('other.yaml');
    await sleep(1500);
    assert.deepEqual(diagnostics(other.uri).map(summarize), []);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pointsToCsv } from '../../launch/src/chartExport';
import { ProgressModel } from '../../launch/src/progressModel';

test('the chart exports as CSV with one row per step and empty cells for missing values', () => {
  const model = new ProgressModel();
  model.applyLine(
    '@tunelab {"event":"step","v":1,"step":5,"loss":1.5,"learning_rate":0.0002,"grad_norm":0.7}',
  );
  model.applyLine('@tunelab {"event":"step","v":1,"step":10,"loss":1.25,"learning_rate":0.0001}');
  const csv = pointsToCsv(model.points);
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'step,loss,eval_loss,learning_rate,grad_norm');
  assert.equal(lines.length, 1 + model.points.length);
  assert.equal(lines[1], '5,1.5,,0.0002,0.7');
  assert.equal(lines[2], '10,1.25,,0.0001,');
});

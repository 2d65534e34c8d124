import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, editDistance, suggestKey } from './didYouMean';

test('aliases from other tools map to the HF name', () => {
  assert.equal(suggestKey('lora', 'lora_rank', ['r', 'lora_alpha', 'target_modules']), 'r');
  assert.equal(suggestKey('data', 'max_seq_length', ['max_length', 'format']), 'max_length');
  assert.equal(suggestKey('lora', 'lora_target', ['r', 'target_modules']), 'target_modules');
});

test('typos find the closest key', () => {
  assert.equal(closest('learning_rat', ['learning_rate', 'warmup_ratio']), 'learning_rate');
  assert.equal(closest('lora_alhpa', ['lora_alpha', 'lora_dropout']), 'lora_alpha');
  assert.equal(closest('num-train-epochs', ['num_train_epochs']), 'num_train_epochs');
  assert.equal(
    closest('gradient_checkpoint', ['gradient_checkpointing']),
    'gradient_checkpointing',
  );
});

test('unrelated words get no suggestion', () => {
  assert.equal(closest('banana', ['learning_rate', 'r', 'lora_alpha']), undefined);
  assert.equal(suggestKey('lora', 'zzz', ['r']), undefined);
});

test('edit distance counts adjacent swaps as one', () => {
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

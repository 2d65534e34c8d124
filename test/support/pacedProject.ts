// A workspace with a LoRA config on the telecom template's chats, launched over
// ssh to gpu-box: short padded batches of a 1B model (the host paces them), or
// packed 2048-token rows (the GPU does). For the host-pace tests of launch/.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TEMPLATE_DATA = path.join(__dirname, '..', '..', 'templates', 'telecom-support', 'data');

/** A workspace with a config of `model` on the template's chats: short padded batches, or packed rows. */
export function pacedProject(model: string, packed = false): { workspace: string; config: string } {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-paces-'));
  fs.mkdirSync(path.join(workspace, 'data'));
  fs.copyFileSync(
    path.join(TEMPLATE_DATA, 'train.jsonl'),
    path.join(workspace, 'data', 'train.jsonl'),
  );
  const config = path.join(workspace, 'run.finetune.yaml');
  fs.writeFileSync(
    config,
    `method: lora
model:
  name_or_path: ${model}
lora:
  r: 16
  lora_alpha: 32
  target_modules: all-linear
data:
  train_file: data/train.jsonl
  format: messages
${packed ? '  packing: true\n  max_length: 2048\n' : ''}training:
  output_dir: runs/out
  per_device_train_batch_size: ${packed ? 4 : 2}
  gradient_accumulation_steps: 2
  max_steps: 24
hardware:
  gpu: H100-80GB
launch:
  target: ssh
  ssh:
    host: gpu-box
`,
  );
  return { workspace, config };
}

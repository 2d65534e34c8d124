// `tunelab templates` and `tunelab new TEMPLATE DEST`.

import { parseArgs } from 'node:util';
import type { Method } from '../../engine/src/plan';
import {
  createConfig,
  defaultTemplatesDir,
  listTemplates,
  NewConfigError,
} from '../../launch/src/newConfig';

export function templatesCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { format: { type: 'string', default: 'text' } },
  });
  const variants = listTemplates(defaultTemplatesDir());
  if (values.format === 'json') {
    process.stdout.write(
      JSON.stringify({
        templates: variants.map(({ id, template, method, description }) => ({
          id,
          template,
          method,
          description,
        })),
      }) + '\n',
    );
    return 0;
  }
  const width = Math.max(0, ...variants.map((v) => v.id.length));
  for (const v of variants) process.stdout.write(`${v.id.padEnd(width)}  ${v.description}\n`);
  return 0;
}

export function newCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      gpu: { type: 'string' },
      'num-gpus': { type: 'string' },
      method: { type: 'string' },
    },
  });
  if (positionals.length !== 2) {
    process.stderr.write(
      'tunelab: usage: tunelab new TEMPLATE DEST [--model ID] [--gpu ID] [--num-gpus N] [--method full|lora|qlora]\n',
    );
    return 2;
  }
  const method = values.method;
  if (method !== undefined && method !== 'full' && method !== 'lora' && method !== 'qlora') {
    process.stderr.write(`tunelab: --method must be full, lora or qlora, got ${method}\n`);
    return 2;
  }
  const numGpus = values['num-gpus'] === undefined ? undefined : Number(values['num-gpus']);
  if (numGpus !== undefined && !(Number.isInteger(numGpus) && numGpus > 0)) {
    process.stderr.write(`tunelab: --num-gpus must be a positive integer\n`);
    return 2;
  }
  try {
    const result = createConfig({
      templatesDir: defaultTemplatesDir(),
      template: positionals[0],
      destDir: positionals[1],
      model: values.model,
      gpu: values.gpu,
      numGpus,
      method: method as Method | undefined,
    });
    process.stdout.write(
      `${result.method}${result.reason ? ` (recommended: ${result.reason})` : ''}\n${result.written.map((f) => `wrote ${f}`).join('\n')}\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof NewConfigError) {
      process.stderr.write(`tunelab: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

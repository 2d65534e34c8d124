// The answers of "New fine-tuning config" passed as the command's argument, so
// tests and other extensions run it without the pick lists:
//
//   vscode.commands.executeCommand('tunelab.newConfig', {
//     template: 'telecom-support', model: 'meta-llama/Llama-3.1-8B',
//     gpu: 'RTX4090-24GB', method: 'qlora', folder: 'bots/telecom',
//   });
//
// What is left out takes the value the lists would open on: the template's
// model and GPU, the recommended method, the proposed folder.

import type { Method } from '../../../engine/src/plan';
import type { RECOMMENDED } from './items';

export interface NewConfigAnswers {
  /** A template folder name from templates/, e.g. `telecom-support`. */
  template: string;
  /** A catalog model id. */
  model?: string;
  /** A catalog GPU id, or `detect` to ask tunelab_runner doctor on this machine. */
  gpu?: string;
  method?: Method | typeof RECOMMENDED;
  /** Absolute, or relative to the workspace root. */
  folder?: string;
  /** The Python the doctor runs with (default python3, python on Windows). */
  doctorPython?: string;
}

/** The answers in a command argument, or undefined when the argument is none (or a folder Uri). */
export function answersFrom(argument: unknown): NewConfigAnswers | undefined {
  if (typeof argument !== 'object' || argument === null) return undefined;
  const template = (argument as { template?: unknown }).template;
  return typeof template === 'string' ? (argument as NewConfigAnswers) : undefined;
}

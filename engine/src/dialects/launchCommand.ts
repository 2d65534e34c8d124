// The command line that trains a config of each dialect, as an argv (no
// shell): the launcher (launch/src) prefixes its interpreter or
// environment and runs it on the target.

import type { Dialect } from '../types';

/**
 * argv that trains `configPath` with the tool the dialect is written for:
 * `axolotl train cfg`, `llamafactory-cli train cfg`, `trl sft --config cfg`,
 * or the Tunelab runner for native configs. The path is passed as given.
 */
export function dialectLaunchCommand(dialect: Dialect, configPath: string): string[] {
  switch (dialect) {
    case 'axolotl':
      return ['axolotl', 'train', configPath];
    case 'llamafactory':
      return ['llamafactory-cli', 'train', configPath];
    case 'trl':
      return ['trl', 'sft', '--config', configPath];
    case 'native':
      return ['python', '-m', 'tunelab_runner', 'train', configPath];
  }
}

// Rules about the data files, chat templates, the hardware and the export.

import { dataFileMissing } from './data/dataFileMissing';
import { dataFormat } from './data/dataFormat';
import { dataSectionMissing } from './data/dataSectionMissing';
import { datasetTooSmall } from './data/datasetTooSmall';
import { dataTruncation } from './data/dataTruncation';
import { maxLengthMissing } from './data/maxLengthMissing';
import { exportDtype } from './export/exportDtype';
import { exportSafeSerialization } from './export/exportSafeSerialization';
import { bf16Unsupported } from './hardware/bf16Unsupported';
import { dataloaderWorkersWindows } from './hardware/dataloaderWorkersWindows';
import { flashAttentionUnsupported } from './hardware/flashAttentionUnsupported';
import type { Rule } from './rule';
import { chatTemplateMismatch } from './template/chatTemplateMismatch';
import { chatTemplateMissing } from './template/chatTemplateMissing';

/** In the order of the rule catalog (rules.md). */
export const DATA_RULES: readonly Rule[] = [
  dataSectionMissing,
  maxLengthMissing,
  dataTruncation,
  dataFileMissing,
  dataFormat,
  datasetTooSmall,
  chatTemplateMissing,
  chatTemplateMismatch,
  bf16Unsupported,
  flashAttentionUnsupported,
  dataloaderWorkersWindows,
  exportDtype,
  exportSafeSerialization,
];

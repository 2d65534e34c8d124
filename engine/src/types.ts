// Shared value types of the analysis engine. Positions are 0-based and count
// UTF-16 code units, exactly like LSP, so the server passes them through as-is.

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'info' | 'hint';

/** A text edit on the config file, used by quick fixes. */
export interface TextEdit {
  range: Range;
  newText: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
  /** The fix a user most likely wants (LSP `isPreferred`). */
  preferred?: boolean;
}

/** One problem found in a config: what LSP and the CLI both report. */
export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  range: Range;
  fixes?: QuickFix[];
}

/** Findings of one code that analyze() reports; the rest are counted in one summary finding. */
export const MAX_FINDINGS_PER_CODE = 100;

/** A path into the config's value tree, e.g. ['lora', 'target_modules', 2]. */
export type Path = readonly (string | number)[];

/**
 * The config formats Tunelab reads: its own (`native`), Axolotl (`axolotl train`),
 * LLaMA-Factory (`llamafactory-cli train`) and TRL's CLI (`trl sft --config`).
 */
export type Dialect = 'native' | 'axolotl' | 'llamafactory' | 'trl';

export const DIALECTS: readonly Dialect[] = ['native', 'axolotl', 'llamafactory', 'trl'];

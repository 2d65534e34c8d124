/** What the rules know about one data file (JSONL), read bounded and cached. */
export interface DataFileSummary {
  /** Absolute path. */
  path: string;
  exists: boolean;
  /** Lines holding a record (blank lines skipped) in the part that was read. */
  rows: number;
  /** True when the file is larger than the read bound; rows then counts the bounded part. */
  partial: boolean;
  /** Size of the whole file in bytes. */
  sizeBytes: number;
  /** The first line that is not JSON or lacks the format's fields (1-based). */
  firstBadLine?: { line: number; reason: string };
  /** Number of bad lines in the part that was read. */
  badLines: number;
  /** Token length of each record read (chat template markup included). */
  tokenLengths: number[];
  /** How tokenLengths were counted; absent: the chars-per-token estimate. */
  tokenSource?: TokenSource;
  /** Bytes actually read (at most the 20 MB bound); absent when nothing was read. */
  bytesRead?: number;
  /** Set when the file exists but could not be read. */
  error?: string;
}

/** Where token counts come from: the model's tokenizer, or the documented ratio. */
export type TokenSource =
  | {
      kind: 'tokenizer';
      /** Absolute path of the tokenizer.json that counted. */
      path: string;
      /** The chat template family rows were rendered with (`no chat template` when unknown). */
      template: string;
      /** Rows past the tokenizing budget: estimated, scaled by the counted rows' ratio. */
      estimatedRows?: number;
      countedRows?: number;
    }
  | {
      kind: 'chars-per-token';
      charsPerToken: number;
      /** Why no tokenizer counted (none found, or it could not be loaded). */
      reason?: string;
    };

export interface DataSummary {
  train?: DataFileSummary;
  eval?: DataFileSummary;
  general?: DataFileSummary;
  /**
   * The forgetting measure's file (`evaluation.forgetting.file`, read after
   * training). The same object as `general` when both name one file (read once).
   */
  forgetting?: DataFileSummary;
}

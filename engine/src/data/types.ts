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
  /** Estimated token length of each record read (chat template overhead included). */
  tokenLengths: number[];
  /** Bytes actually read (at most the 20 MB bound); absent when nothing was read. */
  bytesRead?: number;
  /** Set when the file exists but could not be read. */
  error?: string;
}

export interface DataSummary {
  train?: DataFileSummary;
  eval?: DataFileSummary;
  general?: DataFileSummary;
}

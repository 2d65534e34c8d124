// The custom LSP messages between the extension and the language server, each
// declared once with its parameter and result types (as vscode-eslint's
// customMessages.ts and rust-analyzer's lsp_ext.ts do). Plain objects, so this
// module depends on neither LSP library: the client and the server bundle
// different versions of vscode-jsonrpc.

/** A request: its method name, and its parameter and result types. */
export interface RequestSpec<Params, Result> {
  readonly method: string;
  /** Type-only: never set, carries Params and Result for the helpers below. */
  readonly types?: { params: Params; result: Result };
}

function request<Params, Result>(method: string): RequestSpec<Params, Result> {
  return { method };
}

export interface DocumentParams {
  /** The document's URI, as VS Code names it. */
  uri: string;
}

/**
 * The full estimate of a config (memory parts, time, recommendation) as
 * Markdown; null when the file is not a config or its model is unknown.
 */
export const estimateBreakdownRequest = request<DocumentParams, string | null>('tunelab/estimate');

/** Every custom request, for the test that both sides handle each one. */
export const CUSTOM_REQUESTS: readonly RequestSpec<unknown, unknown>[] = [
  estimateBreakdownRequest as RequestSpec<unknown, unknown>,
];

/** Standard LSP requests the server sends that not every client supports. */
export const CODE_LENS_REFRESH = 'workspace/codeLens/refresh';

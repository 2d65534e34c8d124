// "Tunelab: Chat with Run": a webview with two columns (base | the run's
// adapter, or two runs with the same base) answering the same prompt through
// one chat process on the run's own target (launch/src/chatSession.ts), with
// streaming tokens, Stop, the eval set's prompts one click away and Save
// transcript (the session's JSONL, appended as answers end).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import {
  ChatError,
  ChatSession,
  type ChatAnswer,
  type ChatMessage,
} from '../../launch/src/chatSession';
import { evalPrompts } from '../../launch/src/chatPrompts';
import { loadLaunchSpec } from '../../launch/src/launchConfig';
import { RunStore, type RunRecord } from '../../launch/src/runRecord';
import { isRunItem, isTraining } from './launch/runsTree';
import { SecretStore } from './launch/secrets';
import { clientSetting } from './settings';

type FromView =
  { type: 'send'; text?: string } | { type: 'stop' } | { type: 'save' } | { type: 'clear' };

interface Picked {
  record: RunRecord;
  store: RunStore;
}

/** The run(s) to chat with: the Runs view's selection (two: each its column), a run id, else a pick. */
async function runsToChat(argument: unknown, selection: unknown): Promise<Picked[] | undefined> {
  const stores = (vscode.workspace.workspaceFolders ?? [])
    .filter((folder) => folder.uri.scheme === 'file')
    .map((folder) => new RunStore(folder.uri.fsPath));
  const all = stores.flatMap((store) => store.list().map((record) => ({ record, store })));
  if (Array.isArray(selection) && selection.filter(isRunItem).length === 2)
    return selection.filter(isRunItem);
  if (isRunItem(argument)) return [argument];
  if (typeof argument === 'string') {
    const found = all.find((item) => item.record.id === argument);
    if (!found) throw new Error(`no run ${argument} in this workspace`);
    return [found];
  }
  const completed = all.filter((i) => isTraining(i.record) && i.record.state === 'completed');
  if (!completed.length) {
    void vscode.window.showInformationMessage('Tunelab: no completed training run to chat with.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    completed
      .sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt))
      .map((item) => ({
        label: item.record.id,
        description: `${item.record.target}${item.record.ssh ? ` · ${item.record.ssh.host}` : ''}`,
        detail: item.record.config,
        item,
      })),
    { placeHolder: 'Chat with which run? (base | tuned side by side)' },
  );
  return picked ? [picked.item] : undefined;
}

export function chatWithRunHandler(context: vscode.ExtensionContext) {
  return async (argument?: unknown, selection?: unknown): Promise<ChatView | undefined> => {
    const runs = await runsToChat(argument, selection);
    if (!runs) return undefined;
    const [first, other] = runs;
    const spec = loadLaunchSpec(first.record.config, first.record.target);
    const secrets = await new SecretStore(context.secrets).collect(spec.secrets);
    if (!secrets) return undefined;
    const view = new ChatView(
      `Chat ${runs.map((r) => r.record.id).join(' · ')}`,
      evalPrompts(spec.parsed.value, spec.configDir),
    );
    const session = await vscode.window
      .withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Tunelab: loading the model' },
        () =>
          ChatSession.start(first.record, {
            workspaceDir: first.store.workspaceDir,
            other: other?.record,
            secrets,
            sshConfigFile: clientSetting('launch.sshConfigFile') || undefined,
          }),
      )
      .then(
        (s) => s,
        (err: Error) => {
          const hint = err instanceof ChatError && err.hint ? ` (${err.hint})` : '';
          view.status(`The chat could not start: ${err.message}${hint}`);
          throw err;
        },
      );
    view.attach(session);
    return view;
  };
}

export class ChatView implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private session: ChatSession | undefined;
  /** Each column's conversation so far. */
  private histories: ChatMessage[][] = [[], []];
  private inFlight: ChatAnswer[] = [];

  constructor(title: string, prompts: string[]) {
    this.panel = vscode.window.createWebviewPanel('tunelab.chat', title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [],
      retainContextWhenHidden: true,
    });
    this.panel.webview.html = chatHtml(crypto.randomBytes(16).toString('base64'), prompts);
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((message: FromView) => void this.onMessage(message)),
      this.panel.onDidDispose(() => this.dispose()),
    );
  }

  attach(session: ChatSession): void {
    this.session = session;
    const columns = session.columns.map((c) => c.label);
    void this.panel.webview.postMessage({ type: 'ready', columns, base: session.ready.base });
    void session.closed.then((code) => this.status(`The chat process ended (exit ${code}).`));
  }

  status(text: string): void {
    void this.panel.webview.postMessage({ type: 'status', text });
  }

  private async onMessage(message: FromView): Promise<void> {
    const session = this.session;
    if (message.type === 'stop') for (const answer of this.inFlight) answer.stop();
    else if (message.type === 'clear') this.histories = [[], []];
    else if (message.type === 'save') await this.save();
    else if (message.type === 'send' && session && message.text?.trim() && !this.inFlight.length) {
      const text = message.text;
      void this.panel.webview.postMessage({ type: 'user', text });
      this.inFlight = session.columns.map((column, index) => {
        const messages = [...this.histories[index], { role: 'user' as const, content: text }];
        const answer = session.send({ messages, adapter: column.adapter }, (event) => {
          // the view's `type` is the event; an error's own type travels as `kind`
          const kind = event.event === 'error' ? event.type : undefined;
          void this.panel.webview.postMessage({ ...event, kind, type: event.event, column: index });
        });
        answer.done.then(
          (done) => {
            this.histories[index] = [...messages, { role: 'assistant', content: done.text }];
          },
          () => undefined, // shown by its error event
        );
        return answer;
      });
      await Promise.allSettled(this.inFlight.map((answer) => answer.done));
      this.inFlight = [];
      void this.panel.webview.postMessage({ type: 'idle' });
    }
  }

  private async save(): Promise<void> {
    if (!this.session) return;
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(this.session.transcript),
      filters: { 'JSON lines': ['jsonl'] },
    });
    if (!target) return;
    if (target.fsPath !== this.session.transcript)
      fs.copyFileSync(this.session.transcript, target.fsPath);
    this.status(`Saved ${target.fsPath}`);
  }

  dispose(): void {
    void this.session?.close();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

const CSS = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); display: flex;
  flex-direction: column; height: 100vh; margin: 0; padding: 0 12px; box-sizing: border-box; }
#columns { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; flex: 1; min-height: 0; }
.column { display: flex; flex-direction: column; min-height: 0; border: 1px solid var(--vscode-panel-border); }
.column h3 { margin: 0; padding: 6px 8px; background: var(--vscode-sideBarSectionHeader-background); }
.log { overflow-y: auto; padding: 8px; flex: 1; white-space: pre-wrap; }
.user { color: var(--vscode-textLink-foreground); margin-top: 8px; }
.reply { margin: 4px 0 8px; }
.meta { opacity: 0.7; font-size: 0.9em; }
.error { color: var(--vscode-errorForeground); }
#input { display: flex; gap: 6px; padding: 8px 0; }
textarea { flex: 1; min-height: 3em; background: var(--vscode-input-background); color: var(--vscode-input-foreground); }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: 0; padding: 4px 10px; }
#prompts { max-height: 8em; overflow-y: auto; }
#prompts button { display: block; width: 100%; text-align: left; margin: 2px 0; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; background: var(--vscode-button-secondaryBackground);
  color: var(--vscode-button-secondaryForeground); }
`;

// Runs in the webview: builds the columns, streams tokens into the current reply of each.
const SCRIPT = `
const vscode = acquireVsCodeApi();
const $ = (id) => document.getElementById(id);
let replies = [];
const columns = () => [...document.querySelectorAll('.column .log')];
function line(log, cls, text) { const d = document.createElement('div'); d.className = cls; d.textContent = text; log.appendChild(d); log.scrollTop = log.scrollHeight; return d; }
function send() { const text = $('prompt').value; if (!text.trim()) return; vscode.postMessage({ type: 'send', text }); $('prompt').value = ''; }
$('send').onclick = send;
$('stop').onclick = () => vscode.postMessage({ type: 'stop' });
$('save').onclick = () => vscode.postMessage({ type: 'save' });
$('clear').onclick = () => { vscode.postMessage({ type: 'clear' }); columns().forEach((l) => (l.textContent = '')); };
$('prompt').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) send(); });
document.querySelectorAll('#prompts button').forEach((b) => (b.onclick = () => { $('prompt').value = b.title; send(); }));
window.addEventListener('message', ({ data }) => {
  if (data.type === 'ready') {
    data.columns.forEach((label, i) => ($('title' + i).textContent = (i === 0 && label === 'base' ? 'base: ' + (data.base || '') : label)));
    $('status').textContent = 'Ready.'; $('send').disabled = false;
  } else if (data.type === 'status') $('status').textContent = data.text;
  else if (data.type === 'user') {
    $('send').disabled = true; $('stop').disabled = false;
    replies = columns().map((log) => { line(log, 'user', '> ' + data.text); return line(log, 'reply', ''); });
  } else if (data.type === 'token') { replies[data.column].textContent += data.text; }
  else if (data.type === 'done') line(columns()[data.column], 'meta', data.tokens + ' tokens, ' + data.seconds + ' s' + (data.stopped ? ' (stopped)' : ''));
  else if (data.type === 'error') line(columns()[data.column], 'error', data.kind + ': ' + data.message);
  else if (data.type === 'idle') { $('send').disabled = false; $('stop').disabled = true; }
});
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function chatHtml(nonce: string, prompts: string[]): string {
  const buttons = prompts
    .map((p) => `<button title="${escapeHtml(p)}">${escapeHtml(p.slice(0, 200))}</button>`)
    .join('');
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<style nonce="${nonce}">${CSS}</style></head><body>
<p id="status">Loading the model…</p>
<div id="columns">
  <div class="column" id="column0"><h3 id="title0">base</h3><div class="log"></div></div>
  <div class="column" id="column1"><h3 id="title1">tuned</h3><div class="log"></div></div>
</div>
<div id="input"><textarea id="prompt" placeholder="Ask both columns (Ctrl+Enter)"></textarea>
<button id="send" disabled>Send</button><button id="stop" disabled>Stop</button>
<button id="clear">Clear</button><button id="save">Save transcript</button></div>
${prompts.length ? `<details id="eval" open><summary>Eval set prompts (${prompts.length})</summary><div id="prompts">${buttons}</div></details>` : ''}
<script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}

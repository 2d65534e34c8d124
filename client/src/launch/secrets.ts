// Secrets named in `launch.secrets` live in VS Code's SecretStorage (the OS
// keychain), never in the config: "Tunelab: Store secret" puts them there and
// a launch reads them into the job's environment.

import * as vscode from 'vscode';

const KEY_PREFIX = 'tunelab.secret.';
const NAME = /^[A-Z_][A-Z0-9_]*$/;

export class SecretStore {
  constructor(private readonly storage: vscode.SecretStorage) {}

  async get(name: string): Promise<string | undefined> {
    return this.storage.get(KEY_PREFIX + name);
  }

  async set(name: string, value: string): Promise<void> {
    await this.storage.store(KEY_PREFIX + name, value);
  }

  async delete(name: string): Promise<void> {
    await this.storage.delete(KEY_PREFIX + name);
  }

  /** Asks for a name (unless given) and a value, and stores it. */
  async promptAndStore(suggestedName?: string): Promise<string | undefined> {
    const name =
      suggestedName ??
      (await vscode.window.showInputBox({
        title: 'Tunelab: Store secret',
        prompt: 'Environment variable name, as listed in launch.secrets',
        placeHolder: 'HF_TOKEN',
        validateInput: (value) =>
          NAME.test(value) ? undefined : 'Upper-case letters, digits and _ (e.g. HF_TOKEN)',
      }));
    if (!name) return undefined;
    const value = await vscode.window.showInputBox({
      title: `Tunelab: value of ${name}`,
      prompt: `Stored in VS Code's secret storage; passed to runs as the environment variable ${name}`,
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined || value === '') return undefined;
    await this.set(name, value);
    void vscode.window.showInformationMessage(`Tunelab: ${name} stored.`);
    return name;
  }

  /**
   * The values of `names`; for each one not stored the user may store it now
   * or launch without it. Undefined when the user cancels the launch.
   */
  async collect(names: readonly string[]): Promise<Record<string, string> | undefined> {
    const values: Record<string, string> = {};
    for (const name of names) {
      let value = await this.get(name);
      if (value === undefined) {
        const choice = await vscode.window.showWarningMessage(
          `Tunelab: the secret ${name} (launch.secrets) is not stored.`,
          { modal: true },
          'Store now',
          'Launch without it',
        );
        if (choice === undefined) return undefined;
        if (choice === 'Store now' && (await this.promptAndStore(name)))
          value = await this.get(name);
      }
      if (value !== undefined) values[name] = value;
    }
    return values;
  }
}

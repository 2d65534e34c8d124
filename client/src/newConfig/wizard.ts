// One step of a multi-step quick input ("New fine-tuning config 2/5"): a pick
// or a text box with a Back button, so a wrong choice costs one click instead
// of starting over.

import * as vscode from 'vscode';

export const WIZARD_TITLE = 'New fine-tuning config';

/** The user pressed Back. */
export const BACK = Symbol('back');

/** The answer, BACK, or undefined when the user closed the input (Escape). */
export type StepAnswer<T> = T | typeof BACK | undefined;

export interface StepPosition {
  step: number;
  totalSteps: number;
}

export interface PickOptions<T> extends StepPosition {
  placeholder: string;
  /** The item highlighted when the list opens. */
  active?: T;
  /** Also match what is typed against descriptions (model ids, GPU names). */
  matchOnDescription?: boolean;
}

export function pickOne<T extends vscode.QuickPickItem>(
  items: readonly T[],
  options: PickOptions<T>,
): Promise<StepAnswer<T>> {
  const pick = vscode.window.createQuickPick<T>();
  pick.title = WIZARD_TITLE;
  pick.step = options.step;
  pick.totalSteps = options.totalSteps;
  pick.placeholder = options.placeholder;
  pick.matchOnDescription = options.matchOnDescription ?? false;
  // Stays open while the user looks at a file or the doctor's progress.
  pick.ignoreFocusOut = true;
  pick.items = items;
  if (options.active) pick.activeItems = [options.active];
  pick.buttons = options.step > 1 ? [vscode.QuickInputButtons.Back] : [];
  return new Promise((resolve) => {
    const disposables = [
      pick.onDidAccept(() => {
        const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
        if (!chosen) return;
        resolve(chosen);
        pick.hide();
      }),
      pick.onDidTriggerButton((button) => {
        if (button !== vscode.QuickInputButtons.Back) return;
        resolve(BACK);
        pick.hide();
      }),
      pick.onDidHide(() => {
        // A no-op when accept or Back already resolved.
        resolve(undefined);
        for (const disposable of disposables) disposable.dispose();
        pick.dispose();
      }),
    ];
    pick.show();
  });
}

export interface TextOptions extends StepPosition {
  value: string;
  prompt: string;
  /** A message when the text cannot be accepted, else undefined. */
  validate: (value: string) => string | undefined;
}

export function inputText(options: TextOptions): Promise<StepAnswer<string>> {
  const box = vscode.window.createInputBox();
  box.title = WIZARD_TITLE;
  box.step = options.step;
  box.totalSteps = options.totalSteps;
  box.value = options.value;
  box.prompt = options.prompt;
  box.ignoreFocusOut = true;
  box.buttons = options.step > 1 ? [vscode.QuickInputButtons.Back] : [];
  box.validationMessage = options.validate(options.value);
  return new Promise((resolve) => {
    const disposables = [
      box.onDidChangeValue((value) => {
        box.validationMessage = options.validate(value);
      }),
      box.onDidAccept(() => {
        const problem = options.validate(box.value);
        box.validationMessage = problem;
        if (problem) return;
        resolve(box.value);
        box.hide();
      }),
      box.onDidTriggerButton((button) => {
        if (button !== vscode.QuickInputButtons.Back) return;
        resolve(BACK);
        box.hide();
      }),
      box.onDidHide(() => {
        resolve(undefined);
        for (const disposable of disposables) disposable.dispose();
        box.dispose();
      }),
    ];
    box.show();
  });
}

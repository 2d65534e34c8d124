// Every `tunelab.*` setting, declared once (as vscode-eslint's shared
// settings.ts and ruff-vscode's settings.ts do): its default, its scope and
// which side reads it. package.json's `contributes.configuration` must agree
// (settings.test.ts checks it), and each setting must reach the code that
// uses it (the server's are probed over LSP in test/lsp/settings.test.ts).

export type RuleLevel = 'off' | 'error' | 'warning' | 'info' | 'hint';
export type DialectSetting = 'auto' | 'native' | 'axolotl' | 'llamafactory' | 'trl';

const RULE_LEVELS: readonly RuleLevel[] = ['off', 'error', 'warning', 'info', 'hint'];
const DIALECT_SETTINGS: readonly DialectSetting[] = [
  'auto',
  'native',
  'axolotl',
  'llamafactory',
  'trl',
];

/** Who reads a setting: the language server (per document), the extension, or vscode-languageclient itself. */
export type SettingReader = 'server' | 'client' | 'languageclient';

export interface SettingSpec {
  /** Without the `tunelab.` prefix. */
  readonly key: string;
  readonly default: unknown;
  readonly readBy: SettingReader;
  /** package.json's scope; resource settings are read per file (multi-root workspaces). */
  readonly scope: 'resource' | 'window' | 'machine' | 'application';
}

export const SETTINGS: readonly SettingSpec[] = [
  { key: 'validate.enable', default: true, readBy: 'server', scope: 'resource' },
  { key: 'validate.delayMs', default: 50, readBy: 'server', scope: 'resource' },
  { key: 'rules', default: {}, readBy: 'server', scope: 'resource' },
  { key: 'hub.enable', default: true, readBy: 'server', scope: 'resource' },
  { key: 'dialect', default: 'auto', readBy: 'server', scope: 'resource' },
  { key: 'trace.server', default: 'off', readBy: 'languageclient', scope: 'window' },
  { key: 'launch.sshConfigFile', default: '', readBy: 'client', scope: 'machine' },
  { key: 'walkthrough.openOnFirstRun', default: true, readBy: 'client', scope: 'application' },
];

/** The settings the language server reads, per document. */
export interface ServerSettings {
  validate: { enable: boolean; delayMs: number };
  rules: Record<string, RuleLevel>;
  hub: { enable: boolean };
  /** Read every YAML file as this dialect ('auto': detect from name and content). */
  dialect: DialectSetting;
}

export const DEFAULT_SERVER_SETTINGS: ServerSettings = {
  validate: { enable: true, delayMs: 50 },
  rules: {},
  hub: { enable: true },
  dialect: 'auto',
};

export interface ReadSettings {
  settings: ServerSettings;
  /** `tunelab.x: why`, for each value that was ignored for its default. */
  problems: string[];
}

/**
 * The server's settings from the `tunelab` section as the client sent it
 * (any shape): each wrong value falls back to its default and is reported.
 */
export function readServerSettings(section: unknown): ReadSettings {
  const problems: string[] = [];
  const root = isObject(section) ? section : {};
  const pick = <T>(
    key: string,
    value: unknown,
    fallback: T,
    valid: (v: unknown) => v is T,
    expected: string,
  ): T => {
    if (value === undefined || value === null) return fallback;
    if (valid(value)) return value;
    problems.push(`tunelab.${key}: expected ${expected}, got ${JSON.stringify(value)}`);
    return fallback;
  };
  const validate = isObject(root.validate) ? root.validate : {};
  const hub = isObject(root.hub) ? root.hub : {};
  const defaults = DEFAULT_SERVER_SETTINGS;
  const rules: Record<string, RuleLevel> = {};
  if (isObject(root.rules)) {
    for (const [code, level] of Object.entries(root.rules)) {
      if (RULE_LEVELS.includes(level as RuleLevel)) rules[code] = level as RuleLevel;
      else problems.push(`tunelab.rules.${code}: expected one of ${RULE_LEVELS.join(', ')}`);
    }
  }
  return {
    settings: {
      validate: {
        enable: pick(
          'validate.enable',
          validate.enable,
          defaults.validate.enable,
          isBoolean,
          'true or false',
        ),
        delayMs: pick(
          'validate.delayMs',
          validate.delayMs,
          defaults.validate.delayMs,
          (v): v is number => typeof v === 'number' && v >= 0 && v <= 2000,
          'a number of milliseconds from 0 to 2000',
        ),
      },
      rules,
      hub: {
        enable: pick('hub.enable', hub.enable, defaults.hub.enable, isBoolean, 'true or false'),
      },
      dialect: pick(
        'dialect',
        root.dialect,
        defaults.dialect,
        (v): v is DialectSetting => DIALECT_SETTINGS.includes(v as DialectSetting),
        `one of ${DIALECT_SETTINGS.join(', ')}`,
      ),
    },
    problems,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean';
}

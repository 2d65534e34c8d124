import { chainEdits, removeKey } from '../../edits';
import { exactSourceAt, isRecord } from '../../parse';
import type { Path, QuickFix } from '../../types';
import type { RuleContext } from '../context';
import type { Rule, RuleHit } from '../rule';
import { secretShape } from './secretShape';

export const secretInConfig: Rule = {
  code: 'secret-in-config',
  severity: 'warning',
  doc: {
    title: 'A token or key written into the config',
    why: "Config files are committed, copied to remote machines and shown in logs: a token written in one (`training.hub_token`, or a `launch.env` value that is a token) leaks with it. `launch.secrets` lists names only; their values live in VS Code's SecretStorage and reach the job's environment by name. The message never repeats the value.",
    fix: 'Move it to `launch.secrets` (the quick fix removes the value and adds the name; `HF_TOKEN` for `hub_token`), store the value with the "Tunelab: Store secret" command, and revoke the token if the file was ever shared.',
    thresholds:
      'Any non-empty `training.hub_token`. A `launch.env` value that starts like a known token (`hf_`, `sk-`, `ghp_`, `github_pat_`, `xoxb-`, `AKIA`, a JWT), or whose variable is named like a secret (a `TOKEN`, `KEY`, `SECRET` or `PASSWORD` part: `WANDB_API_KEY`, not `TOKENIZERS_PARALLELISM`) and is not a path or a `$VARIABLE`, or that is a long random string (20+ characters with a 16+ character run mixing letters and digits). In other dialects, top-level `*_token` keys.',
  },
  check(ctx) {
    const hits: RuleHit[] = [];
    if (ctx.dialect !== 'native') {
      // Other tools take their tokens at the top level (`hub_token`, `hf_hub_token`).
      const config = isRecord(ctx.parsed.value) ? ctx.parsed.value : {};
      for (const [key, value] of Object.entries(config)) {
        if (!/(^|_)token$/i.test(key) || typeof value !== 'string' || !value.trim()) continue;
        const node = exactSourceAt(ctx.parsed.root, [key]);
        if (!node) continue;
        hits.push({
          message: `\`${key}\` holds a token written into the config, where it leaks with the file. Leave it out and set \`HF_TOKEN\` in the job's environment instead (a Tunelab launch passes it from the editor's secret storage, by name).`,
          range: node.valueRange,
        });
      }
      return hits;
    }
    const hubToken = ctx.value(['training', 'hub_token']);
    if (typeof hubToken === 'string' && hubToken.trim()) {
      hits.push(hitFor(ctx, ['training', 'hub_token'], 'HF_TOKEN', 'holds a Hub token'));
    }
    const env = ctx.value(['launch', 'env']);
    if (isRecord(env)) {
      for (const [name, value] of Object.entries(env)) {
        const shape = secretShape(name, value);
        if (!shape) continue;
        const secretName = /^[A-Z_][A-Z0-9_]*$/.test(name) ? name : undefined;
        hits.push(hitFor(ctx, ['launch', 'env', name], secretName, shape));
      }
    }
    return hits;
  },
};

function hitFor(
  ctx: RuleContext,
  path: Path,
  secretName: string | undefined,
  shape: string,
): RuleHit {
  const key = path.join('.');
  const target = secretName ? `\`launch.secrets: [${secretName}]\`` : '`launch.secrets`';
  return {
    message: `\`${key}\` ${shape}, written into the config, where it leaks with the file (commits, remote copies, logs). List its name in ${target} instead: the value then lives in VS Code's SecretStorage and reaches the job's environment by name.`,
    range: ctx.rangeAt(path),
    fixes: secretName ? moveToSecrets(ctx, path, secretName) : undefined,
  };
}

/** Removes the value and adds its name to `launch.secrets`, keeping the names already there. */
function moveToSecrets(ctx: RuleContext, path: Path, secretName: string): QuickFix[] | undefined {
  const existing = ctx.value(['launch', 'secrets']);
  const names = Array.isArray(existing)
    ? existing.filter((n): n is string => typeof n === 'string')
    : [];
  if (existing !== undefined && !Array.isArray(existing)) return undefined;
  const steps = [(p: typeof ctx.parsed) => removeKey(p, path)];
  if (!names.includes(secretName)) {
    const list = `[${[...names, secretName].join(', ')}]`;
    steps.push((p) => ctx.edit.setIn(p, ['launch'], 'secrets', list));
  }
  const edits = chainEdits(ctx.parsed.text, steps);
  if (!edits.length) return undefined;
  return [{ title: `Move it to launch.secrets as ${secretName}`, edits, preferred: true }];
}

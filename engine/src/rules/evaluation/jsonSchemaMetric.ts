import type { Rule } from '../rule';

export const jsonSchemaMetricWithoutSchema: Rule = {
  code: 'json-schema-metric-without-schema',
  severity: 'error',
  dialects: ['native'],
  doc: {
    title: 'The `json_schema` metric without a schema',
    why: 'The `json_schema` metric is the share of replies that parse as JSON and validate against `evaluation.task.json_schema`. Without that file there is nothing to validate against, and the metric the config asks for has no value.',
    fix: 'Set `evaluation.task.json_schema` to the JSON Schema file of the replies (relative to the config file), or use `json_valid`, which only checks that replies parse.',
    thresholds: '`json_schema` in `evaluation.task.metrics` and no `evaluation.task.json_schema`.',
  },
  check(ctx) {
    const metrics = ctx.value(['evaluation', 'task', 'metrics']);
    if (!Array.isArray(metrics) || ctx.has(['evaluation', 'task', 'json_schema'])) return [];
    const index = metrics.indexOf('json_schema');
    if (index < 0) return [];
    return [
      {
        message:
          'The `json_schema` metric validates every reply against `evaluation.task.json_schema`, which is not set: there is nothing to validate against. Set `json_schema` to the JSON Schema file of the replies (relative to this file), or use `json_valid`, which checks that replies parse.',
        range: ctx.rangeAt(['evaluation', 'task', 'metrics', index]),
      },
    ];
  },
};

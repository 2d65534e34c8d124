// The time estimate of a run as the runner that measured it ran: the report's is
// today's runner's. Runs measured before the runner turned cuDNN's attention off for
// padded batches (runner/tunelab_runner/attention_backends.py) paid its plan per new
// shape, which today's figure leaves out.

import type { Analysis } from '../../engine/src/engine';
import { estimateTrainTime, type TrainTimeDetail } from '../../engine/src/estimate/time';
import { tokensPerEpoch, type EstimateReport } from '../../engine/src/report/estimateReport';

export function trainTimeAsMeasured(
  analysis: Analysis,
  report: EstimateReport,
  cudnnAttentionPlans: boolean,
): TrainTimeDetail | undefined {
  const { plan, model, gpu } = analysis;
  if (!cudnnAttentionPlans || !report.trainTime || !plan || !model) return report.trainTime;
  return estimateTrainTime(plan, model, gpu, tokensPerEpoch(analysis), {
    tokenLengths: analysis.data?.train?.tokenLengths,
    maxSteps: plan.training.maxSteps,
    pricePerGpuHour: plan.hardware.pricePerHour,
    cudnnAttentionPlans,
  });
}

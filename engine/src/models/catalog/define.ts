// Builds catalog entries from the numbers of a model's config.json. Module
// names and the parameter count are derived, never typed in.

import { countParameters, linearModuleNames } from '../params';
import type { ChatTemplateFamily, ModelArchitecture } from '../types';

/** The config.json facts of one architecture, shared by its base and instruct variants. */
export interface ModelShape {
  family: string;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  /** Defaults to hiddenSize / numAttentionHeads. */
  headDim?: number;
  intermediateSize: number;
  vocabSize: number;
  tiedEmbeddings: boolean;
  numExperts?: number;
  numExpertsPerToken?: number;
  moeIntermediateSize?: number;
}

export interface ModelLabel {
  id: string;
  displayName: string;
  sizeLabel: string;
  kind: 'base' | 'instruct';
  chatTemplate: ChatTemplateFamily;
}

export function defineModel(label: ModelLabel, shape: ModelShape): ModelArchitecture {
  const headDim = shape.headDim ?? shape.hiddenSize / shape.numAttentionHeads;
  const arch: ModelArchitecture = {
    ...label,
    ...shape,
    headDim,
    linearModules: [],
    paramsTotal: 0,
    source: 'catalog',
  };
  arch.linearModules = linearModuleNames(arch);
  arch.paramsTotal = countParameters(arch);
  // Entries are shared by every lookup: freeze them so no caller edits the catalog.
  Object.freeze(arch.linearModules);
  return Object.freeze(arch);
}

/**
 * A base model and its instruct sibling sharing one shape. `instructId` is
 * the full Hub id; the display name gets the suffix the Hub uses.
 */
export function baseAndInstruct(
  base: Omit<ModelLabel, 'kind'>,
  instruct: { id: string; suffix?: string },
  shape: ModelShape,
): ModelArchitecture[] {
  return [
    defineModel({ ...base, kind: 'base' }, shape),
    defineModel(
      {
        ...base,
        id: instruct.id,
        displayName: `${base.displayName} ${instruct.suffix ?? 'Instruct'}`,
        kind: 'instruct',
      },
      shape,
    ),
  ];
}

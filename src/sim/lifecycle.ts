import { LIFECYCLE_STAGES } from './properties.ts';

/**
 * Lifecycle stages in funnel order. A merge keeps the furthest stage of the two contacts; `other` sits outside
 * the funnel and never outranks a stage in it
 * (https://knowledge.hubspot.com/records/merge-records#contacts).
 */
const FUNNEL: readonly string[] = LIFECYCLE_STAGES.filter((stage) => stage !== 'other');

/** The stage a merge keeps, or undefined when neither contact has one. */
export function furthestStage(a: string | undefined, b: string | undefined): string | undefined {
  const rankA = a === undefined ? -2 : FUNNEL.indexOf(a);
  const rankB = b === undefined ? -2 : FUNNEL.indexOf(b);
  return rankB > rankA ? b : (a ?? b);
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { PropertyDefinition } from './properties.ts';

/** What a piece of simulator code needs to know about the portal's live property definitions. */
export interface PropertyLookup {
  find(name: string): PropertyDefinition | undefined;
}

const scope = new AsyncLocalStorage<PropertyLookup>();

/**
 * Property definitions belong to a portal, and one process may run several simulators. Request handling runs
 * inside its simulator's scope, so the code that validates, shapes and searches contacts by property name sees
 * that portal's definitions without each call site carrying them.
 */
export function withProperties<T>(lookup: PropertyLookup, work: () => T): T {
  return scope.run(lookup, work);
}

/** The definitions of the simulator whose work is running, if any. */
export function propertiesInScope(): PropertyLookup | undefined {
  return scope.getStore();
}

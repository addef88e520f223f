import { validationError } from './errors.ts';
import type { PropertyDefinition, PropertyLookup } from './properties.ts';

interface PropertyProblem {
  isValid: false;
  message: string;
  error: string;
  name: string;
  localizedErrorMessage: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function problemWith(
  name: string,
  value: string,
  definition: PropertyDefinition | undefined,
): { error: string; message: string } | null {
  if (!definition) return { error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` };
  if (definition.readOnly) {
    return {
      error: 'READ_ONLY_VALUE',
      message: `"${name}" is a read only property; its value cannot be set.`,
    };
  }
  if (value === '') return null;
  switch (definition.type) {
    case 'number':
      return Number.isNaN(Number(value))
        ? { error: 'INVALID_DECIMAL', message: `${value} was not a valid number.` }
        : null;
    case 'datetime':
    case 'date':
      return Number.isNaN(/^-?\d+$/.test(value) ? Number(value) : Date.parse(value))
        ? { error: 'INVALID_DATE', message: `${value} was not a valid date.` }
        : null;
    case 'enumeration':
    case 'bool':
      return definition.options.some((option) => option.value === value)
        ? null
        : {
            error: 'INVALID_OPTION',
            message: `${value} was not one of the allowed options: ${definition.options.map((o) => o.value).join(', ')}`,
          };
    default:
      if (name === 'email' && !EMAIL.test(value)) {
        return { error: 'INVALID_EMAIL', message: `Email address ${value} is invalid` };
      }
      return null;
  }
}

/** Stored form of a value: dates become ISO-8601, as HubSpot answers them. */
function normalise(value: string, definition: PropertyDefinition | undefined): string {
  if (value !== '' && (definition?.type === 'datetime' || definition?.type === 'date')) {
    const ms = /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
    return new Date(ms).toISOString();
  }
  return value;
}

/**
 * Checks a create/update `properties` object the way HubSpot does: unknown, read-only and malformed values are
 * refused together in one 400 (https://developers.hubspot.com/docs/api/crm/understanding-the-crm).
 */
export function validateProperties(input: unknown, catalog: PropertyLookup): Record<string, string> {
  if (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw validationError('Invalid input JSON: "properties" must be an object of property names to values');
  }
  const values: Record<string, string> = {};
  const problems: PropertyProblem[] = [];
  for (const [name, raw] of Object.entries(input)) {
    // HubSpot takes JSON numbers and booleans and stores their string form; null clears.
    const value = raw === null ? '' : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
    const definition = catalog.find(name);
    const problem = problemWith(name, value, definition);
    if (problem) {
      problems.push({ isValid: false, ...problem, name, localizedErrorMessage: problem.message });
    } else {
      values[name] = normalise(value, definition);
    }
  }
  if (problems.length > 0) {
    throw validationError(`Property values were not valid: ${JSON.stringify(problems)}`, {
      errors: problems.map((problem) => ({
        message: problem.message,
        code: problem.error,
        context: { propertyName: [problem.name] },
      })),
    });
  }
  return values;
}

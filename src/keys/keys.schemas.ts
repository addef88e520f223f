import { z } from 'zod';
import { API_KEY_ROLES } from '../db/schema/index.ts';

/** The rule the database enforces too (`api_keys_name_check`), said in words for the 400 and the CLI. */
export const KEY_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const KEY_NAME_RULE =
  'name must be 1 to 63 characters of lowercase letters, digits, "_", "." or "-", starting with a letter or digit';

export const KeyName = z.string().regex(KEY_NAME_PATTERN, KEY_NAME_RULE).describe('the key name');
export const KeyRole = z.enum(API_KEY_ROLES, { error: 'role must be admin or read' });

export const KeyView = z.object({
  name: z.string(),
  role: KeyRole,
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type KeyView = z.infer<typeof KeyView>;

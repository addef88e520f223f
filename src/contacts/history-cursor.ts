import { badRequest } from '../http/app-error.ts';

/** A property history page's position: the HubSpot time (epoch ms) and id of its last entry. */
export interface HistoryPosition {
  occurredAt: number;
  id: number;
}

export const encodeHistoryCursor = ({ occurredAt, id }: HistoryPosition) =>
  Buffer.from(`${occurredAt}.${id}`).toString('base64url');

export function decodeHistoryCursor(text: string): HistoryPosition {
  const match = /^(\d{1,16})\.(\d{1,18})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!match)
    throw badRequest('cursor is not one this API returned; pass nextCursor from the previous page unchanged');
  return { occurredAt: Number(match[1]), id: Number(match[2]) };
}

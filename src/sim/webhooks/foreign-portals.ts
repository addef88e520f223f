import type { Random } from '../random.ts';
import type { WebhookEvent } from './events.ts';

/**
 * A public app installed in several portals gets all their events at its one target URL, batched together
 * (https://developers.hubspot.com/docs/api-reference/latest/webhooks/guide: "any account that installs your app
 * … will be subscribed"). These stand-ins are events of other installing portals: same app and subscriptions,
 * another `portalId`. Each portal numbers its own records, so their ids can be ours too; their property values
 * name their portal, which makes a receiver that ignores `portalId` visibly corrupt its mirror.
 */
export function createForeignPortalEvents(options: { portalId: number; random: Random }) {
  const { random } = options;
  const portals = [1, 2, 3].map((n) => options.portalId + n * 100_003);

  return (event: WebhookEvent): WebhookEvent => {
    const portalId = random.pick(portals);
    const foreign: WebhookEvent = { ...event, portalId, eventId: random.int(1, 2 ** 31 - 1) };
    if (foreign.propertyValue !== undefined)
      foreign.propertyValue = `${foreign.propertyValue} (portal ${portalId})`;
    return foreign;
  };
}

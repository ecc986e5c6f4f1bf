import type { TlpLevel } from '../../chat/message.js';
import type { ChannelRef, UserRef } from '../../chat/refs.js';
import { type Audience, mayDeliver } from '../../tlp/rules.js';

/** An organisation's inbox on a platform, as `/org inbox` recorded it. */
export interface Inbox {
  channel: ChannelRef;
  /** Null when the platform could not say (or it was set before Concord asked). */
  private: boolean | null;
}

/** The contact a card would go to directly. */
export interface Contact {
  personId: number;
  orgCode: string;
  name: string;
  user: UserRef | null;
}

export type Destination =
  | { kind: 'inbox'; channel: ChannelRef }
  | { kind: 'direct'; user: UserRef; personId: number; note?: string }
  | { kind: 'refused'; reason: string };

/**
 * Where an organisation's card goes under the TLP rules (design section 3): its inbox when the
 * level allows that channel, otherwise a direct message to the contact, otherwise nowhere, with
 * the reason. At TLP:RED a card never goes to a channel, only to the person named for it.
 */
export function chooseDestination(
  level: TlpLevel,
  inbox: Inbox | null,
  contact: Contact,
  audience: Audience,
): Destination {
  let note: string | undefined;
  if (inbox && level !== 'red') {
    const verdict = mayDeliver(
      level,
      {
        kind: 'channel',
        registered: true,
        private: inbox.private === true,
        orgs: [contact.orgCode],
      },
      audience,
    );
    if (verdict.ok) return { kind: 'inbox', channel: inbox.channel };
    note =
      inbox.private === null
        ? `${contact.orgCode}'s inbox may not be private (run /org inbox there again to check)`
        : `${contact.orgCode}'s inbox is not private`;
  }
  if (!contact.user) {
    return {
      kind: 'refused',
      reason: `${contact.name} (${contact.orgCode}) has no Slack or Discord account in the directory${note ? `, and ${note}` : ''}`,
    };
  }
  const verdict = mayDeliver(
    level,
    { kind: 'direct', person: { id: contact.personId, org: contact.orgCode } },
    audience,
  );
  if (!verdict.ok) return { kind: 'refused', reason: `${contact.orgCode}: ${verdict.reason}` };
  return {
    kind: 'direct',
    user: contact.user,
    personId: contact.personId,
    ...(note ? { note: `${note}: sent to ${contact.name} directly` } : {}),
  };
}

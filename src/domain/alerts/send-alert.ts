import { type TlpLevel, tlpLabel } from '../../chat/message.js';
import { type ChatPlatform, platformOf, type UserRef } from '../../chat/refs.js';
import { type AlertSeverity, alerts } from '../../db/schema/assistance.js';
import { forbidden, tlpViolation, usageError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { nextRef } from '../refs.js';
import { alertCard } from '../routing/cards.js';
import { platformOrder } from '../routing/contacts.js';
import { ALERT_DEADLINE_MS } from '../routing/deadlines.js';
import { type RouteResult, refuseWhenNobody, routeToOrganisations } from '../routing/route.js';
import { loadAlertView } from '../routing/subject.js';
import { type Addressees, addressedOrganisations, describeAddressees } from '../routing/targets.js';

export const EARLY_WARNING = 'early-warning';

/**
 * `/alert`: an early warning (`EW-<year>-<seq>`) to the primary `early-warning` contact of every
 * addressed organisation (delegations by default, industry too with `to:all`), with an
 * Acknowledge button; unacknowledged cards escalate to backups like requests do.
 */
export async function sendAlert({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: {
    text: string;
    tlp: TlpLevel;
    severity: AlertSeverity;
    to: Addressees;
    sender: UserRef;
    running: readonly ChatPlatform[];
  };
}): Promise<RouteResult & { ref: string }> {
  const person = ctx.speaker.person;
  if (!person?.org)
    throw forbidden('an early warning speaks for an organisation: you need to be a member of one');
  const org = person.org;
  if ((input.tlp === 'amber+strict' || input.tlp === 'red') && input.to.kind !== 'named') {
    throw tlpViolation(
      `${tlpLabel(input.tlp)} warnings go only to organisations named with to:<codes>, not to:${input.to.kind}`,
    );
  }
  return ctx.db.transaction(async (tx) => {
    const orgs = await addressedOrganisations(tx, input.to, org.id);
    if (orgs.length === 0)
      throw usageError(`no organisation is addressed by to:${describeAddressees(input.to)}`);
    const ref = await nextRef(tx, 'EW', ctx.now.getUTCFullYear());
    const [alert] = await tx
      .insert(alerts)
      .values({
        ref,
        text: input.text,
        tlp: input.tlp,
        severity: input.severity,
        audience: describeAddressees(input.to),
        senderId: person.id,
        senderUser: input.sender,
        createdAt: ctx.now,
      })
      .returning();
    if (!alert) throw new Error('alert insert returned nothing');
    const view = await loadAlertView(tx, alert);
    const routed = await routeToOrganisations(tx, {
      subject: {
        kind: 'alert',
        id: alert.id,
        ref,
        tlp: input.tlp,
        capability: EARLY_WARNING,
        deadlineMs: ALERT_DEADLINE_MS[input.severity],
      },
      orgs,
      senderOrgCode: org.code,
      senderId: person.id,
      order: platformOrder(platformOf(input.sender), input.running),
      now: ctx.now,
      render: (routing) => alertCard(view, routing),
    });
    refuseWhenNobody(routed, EARLY_WARNING, 'the warning');
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'alert.send',
      subject: `alert:${ref}`,
      detail: {
        tlp: input.tlp,
        severity: input.severity,
        to: describeAddressees(input.to),
        routed: routed.routed.length,
        withoutContact: routed.withoutContact,
        refused: routed.refused,
      },
    });
    return { ...routed, ref };
  });
}

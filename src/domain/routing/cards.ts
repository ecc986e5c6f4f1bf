import type { ChatMessage, MessageField } from '../../chat/message.js';
import { ALERT_DEADLINE_MS, URGENCY_DEADLINE_MS } from './deadlines.js';
import type { AlertView, RequestView, RoutingView, Sender } from './subject.js';

/** Button actions on request and alert cards; the value is the routing id. */
export const ACCEPT = 'assist.accept';
export const DECLINE = 'assist.decline';
export const ACKNOWLEDGE = 'alert.ack';
/** On the requester's own card; the value is the request's ref. */
export const CLOSE = 'assist.close';

const stamp = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const from = (s: Sender) => `${s.name}${s.orgCode ? ` (${s.orgCode})` : ''}`;

/** An organisation's answer in a word or three: `accepted by Bob Stone`, `waiting`. */
export function routingStatus(r: RoutingView): string {
  const who = r.answeredByName ? ` by ${r.answeredByName}` : '';
  switch (r.status) {
    case 'accepted':
      return `accepted${who}`;
    case 'declined':
      return `declined${who}`;
    case 'acknowledged':
      return `acknowledged${who}`;
    default:
      return r.asked.length > 1 ? `waiting (contact ${r.asked.length} asked)` : 'waiting';
  }
}

/** The request as one organisation's contacts see it: only their own organisation's answer. */
export function requestCard(view: RequestView, routing: RoutingView): ChatMessage {
  const { request } = view;
  const open = request.status === 'open';
  const fields: MessageField[] = [
    { label: 'From', value: from(view.requester) },
    { label: 'Capability', value: request.capability },
    { label: 'Urgency', value: request.urgency },
    {
      label: 'Accept by',
      value: stamp(new Date(request.createdAt.getTime() + URGENCY_DEADLINE_MS[request.urgency])),
    },
  ];
  if (view.incidentRef) fields.push({ label: 'Incident', value: view.incidentRef });
  fields.push({
    label: `Status (${routing.orgCode})`,
    value: open ? routingStatus(routing) : `closed (${request.outcome ?? 'resolved'})`,
  });
  return {
    tlp: request.tlp,
    title: `🆘 ${request.ref} · request for assistance`,
    fields,
    body: `${request.need}\n\nAnswer in this thread: replies reach ${view.requester.name}.`,
    ...(open && routing.status === 'waiting'
      ? {
          buttons: [
            {
              action: ACCEPT,
              value: String(routing.id),
              label: 'Accept',
              style: 'primary' as const,
            },
            {
              action: DECLINE,
              value: String(routing.id),
              label: 'Decline',
              style: 'danger' as const,
            },
          ],
        }
      : {}),
  };
}

/** The requester's own card: every organisation's answer. Replies in its thread go to them. */
export function trackingCard(view: RequestView): ChatMessage {
  const { request } = view;
  const open = request.status === 'open';
  const fields: MessageField[] = [
    { label: 'Capability', value: request.capability },
    { label: 'Urgency', value: request.urgency },
  ];
  if (view.incidentRef) fields.push({ label: 'Incident', value: view.incidentRef });
  fields.push({
    label: 'Organisations',
    value: view.routings.length
      ? view.routings.map((r) => `${r.orgCode}: ${routingStatus(r)}`).join('\n')
      : 'none',
  });
  if (!open) fields.push({ label: 'Closed', value: request.outcome ?? 'resolved' });
  return {
    tlp: request.tlp,
    title: `📨 ${request.ref} · your request for assistance`,
    fields,
    body: `${request.need}\n\nAnswers arrive in this thread; reply here to answer the organisations that engaged.`,
    ...(open
      ? { buttons: [{ action: CLOSE, value: request.ref, label: 'Close as resolved' }] }
      : {}),
  };
}

/** An early warning as one organisation's contacts see it. */
export function alertCard(view: AlertView, routing: RoutingView): ChatMessage {
  const { alert } = view;
  return {
    tlp: alert.tlp,
    title: `🚨 ${alert.ref} · early warning (${alert.severity})`,
    fields: [
      { label: 'From', value: from(view.sender) },
      {
        label: 'Acknowledge by',
        value: stamp(new Date(alert.createdAt.getTime() + ALERT_DEADLINE_MS[alert.severity])),
      },
      { label: `Status (${routing.orgCode})`, value: routingStatus(routing) },
    ],
    body: alert.text,
    ...(routing.status === 'waiting'
      ? {
          buttons: [
            {
              action: ACKNOWLEDGE,
              value: String(routing.id),
              label: 'Acknowledge',
              style: 'primary' as const,
            },
          ],
        }
      : {}),
  };
}

/** A routing's card, whichever the subject. */
export const cardFor = (view: RequestView | AlertView, routing: RoutingView) =>
  view.kind === 'request' ? requestCard(view, routing) : alertCard(view, routing);

import { DiscordApiError, INVALID_FORM, objectBody } from './routes.js';

/** The parts of a message body the fake keeps, after Discord's size rules were checked. */
export interface MessageParts {
  content?: string;
  embeds?: unknown[];
  components?: unknown[];
  flags?: number;
  messageReference?: { message_id: string; fail_if_not_exists: boolean };
  /** At most 25 characters, or an integer. */
  nonce?: string | number;
  /** Return the message created with the same nonce moments ago instead of a second one. */
  enforceNonce?: boolean;
}

const asArray = (v: unknown, what: string): unknown[] => {
  if (!Array.isArray(v)) throw INVALID_FORM(`${what} must be an array`);
  return v;
};

function checkEmbed(raw: unknown, i: number): number {
  const e = objectBody(raw);
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  let total = text(e.title).length + text(e.description).length;
  if (text(e.title).length > 256) throw INVALID_FORM(`embeds[${i}].title exceeds 256`);
  if (text(e.description).length > 4096)
    throw INVALID_FORM(`embeds[${i}].description exceeds 4096`);
  const fields = e.fields === undefined || e.fields === null ? [] : asArray(e.fields, 'fields');
  if (fields.length > 25) throw INVALID_FORM(`embeds[${i}] has more than 25 fields`);
  for (const f of fields) {
    const field = objectBody(f);
    const name = text(field.name);
    const value = text(field.value);
    if (!name || name.length > 256) throw INVALID_FORM(`embeds[${i}] field name must be 1–256`);
    if (!value || value.length > 1024)
      throw INVALID_FORM(`embeds[${i}] field value must be 1–1024`);
    total += name.length + value.length;
  }
  const footer = e.footer ? text(objectBody(e.footer).text) : '';
  if (footer.length > 2048) throw INVALID_FORM(`embeds[${i}].footer exceeds 2048`);
  return total + footer.length;
}

function checkComponents(rows: unknown[]): void {
  if (rows.length > 5) throw INVALID_FORM('at most 5 action rows');
  const ids = new Set<string>();
  for (const raw of rows) {
    const row = objectBody(raw);
    if (row.type !== 1) throw INVALID_FORM('top-level components must be action rows (type 1)');
    const buttons = asArray(row.components, 'components');
    if (buttons.length < 1 || buttons.length > 5) throw INVALID_FORM('1–5 buttons per row');
    for (const b of buttons.map(objectBody)) {
      if (b.type !== 2) continue;
      const id = b.custom_id;
      if (b.style !== 5) {
        if (typeof id !== 'string' || id.length < 1 || id.length > 100)
          throw INVALID_FORM('custom_id must be 1–100 characters');
        if (ids.has(id)) throw INVALID_FORM(`custom_id "${id}" is used twice`);
        ids.add(id);
      }
      if (typeof b.label === 'string' && b.label.length > 80)
        throw INVALID_FORM('label exceeds 80');
    }
  }
}

/** Reads a create or edit body, enforcing Discord's limits (content 2,000, embeds 6,000 in all…). */
export function readMessageBody(body: unknown, mode: 'create' | 'edit'): MessageParts {
  const b = objectBody(body);
  const parts: MessageParts = {};
  if (b.content !== undefined) {
    const content = b.content === null ? '' : b.content;
    if (typeof content !== 'string') throw INVALID_FORM('content must be a string');
    if (content.length > 2000) throw INVALID_FORM('content must be 2000 or fewer in length');
    parts.content = content;
  }
  if (b.embeds !== undefined) {
    const embeds = b.embeds === null ? [] : asArray(b.embeds, 'embeds');
    if (embeds.length > 10) throw INVALID_FORM('at most 10 embeds');
    const total = embeds.reduce<number>((sum, e, i) => sum + checkEmbed(e, i), 0);
    if (total > 6000) throw INVALID_FORM('embeds exceed 6000 characters in total');
    parts.embeds = embeds;
  }
  if (b.components !== undefined) {
    const components = b.components === null ? [] : asArray(b.components, 'components');
    checkComponents(components);
    parts.components = components;
  }
  if (typeof b.flags === 'number') parts.flags = b.flags;
  if (mode === 'create' && b.nonce !== undefined && b.nonce !== null) {
    if (typeof b.nonce === 'string' ? b.nonce.length > 25 : !Number.isInteger(b.nonce))
      throw INVALID_FORM('nonce must be an integer or at most 25 characters');
    parts.nonce = b.nonce as string | number;
  }
  if (mode === 'create' && b.enforce_nonce === true) parts.enforceNonce = true;
  if (b.message_reference) {
    const ref = objectBody(b.message_reference);
    parts.messageReference = {
      message_id: String(ref.message_id ?? ''),
      fail_if_not_exists: ref.fail_if_not_exists !== false,
    };
  }
  if (mode === 'create' && !parts.content && !parts.embeds?.length && !parts.components?.length)
    throw new DiscordApiError(400, 50006, 'Cannot send an empty message');
  return parts;
}

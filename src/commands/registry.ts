import { alertCommand } from './alert.js';
import { assistCommand } from './assist.js';
import { concordCommand } from './concord.js';
import { forumCommand } from './forum.js';
import { incidentCommand } from './incident.js';
import { orgCommand } from './org.js';
import { pocCommand } from './poc.js';
import { type CommandRegistry, createRegistry } from './spec.js';

/** Every command Concord has. Parser, help, usage lines and platform registration read this. */
export function concordCommands(): CommandRegistry {
  return createRegistry([
    concordCommand,
    orgCommand,
    pocCommand,
    incidentCommand,
    assistCommand,
    alertCommand,
    forumCommand,
  ]);
}

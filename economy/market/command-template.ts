/**
 * Command templates of `minecraft_item` catalog items: one console command with placeholders the delivery
 * fills in from values it has checked itself (a Minecraft name, a UUID, a whole number), so a template that
 * passed these checks cannot become two commands.
 */

export const COMMAND_PLACEHOLDERS = ['{player}', '{uuid}', '{qty}'] as const;

/** Control characters (line breaks among them) and what chains commands on consoles and plugins. */
const separates = (c: string) =>
  c.charCodeAt(0) < 0x20 || c === '\u007f' || c === ';' || c === '|' || c === '&';

/** What is wrong with a template, or null when it may be saved. */
export function templateProblem(template: string): string | null {
  if ([...template].some(separates))
    return 'must be one command: no line breaks, control characters, ; | or &';
  // Whatever brace is left once the known placeholders are taken out belongs to an unknown one.
  if (/[{}]/.test(template.replace(/\{(player|uuid|qty)\}/g, ''))) {
    return `may only use the placeholders ${COMMAND_PLACEHOLDERS.join(' ')}`;
  }
  return null;
}

/** The command for one delivery; `player` and `uuid` come from a checked account link. */
export function renderCommand(
  template: string,
  values: { player: string; uuid: string; qty: number },
): string {
  return template
    .replaceAll('{player}', values.player)
    .replaceAll('{uuid}', values.uuid)
    .replaceAll('{qty}', String(values.qty))
    .replace(/^\//, '');
}

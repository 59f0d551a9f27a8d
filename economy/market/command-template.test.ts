import { describe, expect, it } from 'vitest';
import { renderCommand, templateProblem } from './command-template.ts';

describe('Minecraft command templates', () => {
  it('accepts one command with the known placeholders', () => {
    expect(templateProblem('give {player} minecraft:diamond {qty}')).toBeNull();
    expect(templateProblem('lp user {uuid} parent add vip')).toBeNull();
  });

  it.each([
    ['a second command after ;', 'give {player} dirt 1; op {player}'],
    ['&&', 'give {player} dirt 1 && op {player}'],
    ['a pipe', 'give {player} dirt 1 | op {player}'],
    ['a line break', 'give {player} dirt 1\nop {player}'],
    ['a carriage return', 'give {player} dirt 1\rop {player}'],
    ['a tab', 'give\t{player} dirt 1'],
    ['an unknown placeholder', 'give {player} dirt {amount}'],
    ['an unclosed brace', 'give {player dirt 1'],
    ['a stray closing brace', 'give player} dirt 1'],
    ['doubled braces', 'give {{player}} dirt 1'],
  ])('refuses %s', (_what, template) => {
    expect(templateProblem(template)).not.toBeNull();
  });

  it('fills in the placeholders and drops a leading slash', () => {
    expect(
      renderCommand('/give {player} minecraft:diamond {qty} # {uuid}', {
        player: 'Steve',
        uuid: '069a79f4-44e9-4726-a5be-fca90e38aaf5',
        qty: 3,
      }),
    ).toBe('give Steve minecraft:diamond 3 # 069a79f4-44e9-4726-a5be-fca90e38aaf5');
  });
});

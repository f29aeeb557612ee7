/**
 * Keybindings run a command with no clicked item; package.json's keybindings pass this marker
 * instead, and the command acts on the explorer's selection (as its context menu would).
 */
export interface TreeSelectionArg {
  fromTreeSelection: true;
}

export function isTreeSelectionArg(arg: unknown): arg is TreeSelectionArg {
  return typeof arg === 'object' && arg !== null && (arg as TreeSelectionArg).fromTreeSelection === true;
}

/** The (arg, selection) a command would get from a context menu, for a keybinding's marker. */
export function fromKeybinding(args: unknown[], selection: () => readonly unknown[]): unknown[] {
  if (!isTreeSelectionArg(args[0])) return args;
  const picked = [...selection()];
  return [picked[0], picked];
}

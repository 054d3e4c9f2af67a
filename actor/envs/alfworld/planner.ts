/**
 * Scripted ALFWorld planner (test oracle and demonstration source), in the spirit of ALFWorld's handcoded
 * expert: it knows the full state and, from any state, returns the next command of a direct plan:
 * put away a wrongly held object; fetch a task object (go to its receptacle, open it if closed, take it);
 * process it (clean/heat/cool at the sink basin/microwave/fridge); deliver it (go to a target receptacle,
 * open it if closed, move it there); for Look, carry it to the lamp and switch the lamp on; for Pick2, bring a
 * second object to the receptacle that already holds one. Stateless: it re-plans from the state every step,
 * so it also recovers after noisy actions.
 */
import type { AlfWorldState, ObjectState } from './state.js';
import { TOOL_FOR } from './generate.js';
import { goalSatisfied } from './tasks.js';
import { containsIn } from './world.js';

function needsProcessing(s: AlfWorldState, o: ObjectState): boolean {
  switch (s.task.type) {
    case 'pick_clean_then_place_in_recep':
      return !o.clean;
    case 'pick_heat_then_place_in_recep':
      return !o.hot;
    case 'pick_cool_then_place_in_recep':
      return !o.cool;
    default:
      return false;
  }
}

const PROCESS_VERB: Record<string, string> = {
  pick_clean_then_place_in_recep: 'clean',
  pick_heat_then_place_in_recep: 'heat',
  pick_cool_then_place_in_recep: 'cool',
};

/** Goes to `r` and opens it when needed; null once the agent stands at `r` with it open. */
function reach(s: AlfWorldState, r: string): string | null {
  if (s.at !== r) return `go to ${r}`;
  const rec = s.receptacles[r];
  if (rec.openable && !rec.opened) return `open ${r}`;
  return null;
}

function firstOfType(s: AlfWorldState, type: string): string {
  const r = Object.values(s.receptacles)
    .filter((x) => x.type === type)
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))[0];
  return r.id;
}

/** Receptacle a Pick2 delivery goes to: one of the target type already holding a task object, else the first. */
function pick2Destination(s: AlfWorldState): string {
  const t = s.task;
  const holding = s.objects.find(
    (o) => o.type === t.object && o.loc !== null && s.receptacles[o.loc].type === t.receptacle,
  );
  return holding ? (holding.loc as string) : firstOfType(s, t.receptacle as string);
}

function deliveredAlready(s: AlfWorldState, o: ObjectState): boolean {
  if (o.loc === null) return false;
  const t = s.task;
  if (t.type === 'pick_two_obj_and_place') return o.loc === pick2Destination(s);
  return s.receptacles[o.loc].type === t.receptacle && !needsProcessing(s, o);
}

/** The planner's next command, or null when the goal already holds. */
export function plannerCommand(s: AlfWorldState): string | null {
  if (goalSatisfied(s)) return null;
  const t = s.task;
  const held = s.holding === null ? undefined : s.objects.find((o) => o.id === s.holding);

  if (held && held.type !== t.object) {
    // Put the wrong object down here if possible, else at the first receptacle that takes it.
    if (s.at !== null && containsIn(s, s.receptacles[s.at].type, held.type) && reach(s, s.at) === null)
      return `move ${held.id} to ${s.at}`;
    const home = Object.values(s.receptacles).find((r) => containsIn(s, r.type, held.type));
    if (!home) return 'look';
    return reach(s, home.id) ?? `move ${held.id} to ${home.id}`;
  }

  if (held) {
    if (t.type === 'look_at_obj_in_light') {
      const lamp = s.objects.find((o) => o.type === t.toggle) as ObjectState;
      return s.at !== lamp.loc ? `go to ${lamp.loc}` : `use ${lamp.id}`;
    }
    if (needsProcessing(s, held)) {
      const tool = firstOfType(s, TOOL_FOR[t.type] as string);
      return s.at !== tool ? `go to ${tool}` : `${PROCESS_VERB[t.type]} ${held.id} with ${tool}`;
    }
    const dest = t.type === 'pick_two_obj_and_place' ? pick2Destination(s) : firstOfType(s, t.receptacle as string);
    return reach(s, dest) ?? `move ${held.id} to ${dest}`;
  }

  // Hands free: fetch the first task object not yet where it belongs.
  const candidates = s.objects.filter((o) => o.type === t.object && o.loc !== null && !deliveredAlready(s, o));
  const next = candidates.find((o) => o.loc === s.at) ?? candidates[0];
  if (!next) return 'look';
  return reach(s, next.loc as string) ?? `take ${next.id} from ${next.loc}`;
}

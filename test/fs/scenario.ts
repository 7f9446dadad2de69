/**
 * A differential scenario: the same steps on the real side and the layer side, in one flavour;
 * the test passes when every step's outcome and the final trees are equal.
 */
import test, { type ExecutionContext } from 'ava';
import { call, FLAVOURS, snapshot, type Flavour, type Outcome } from './compare.js';
import { bothSides, type Side } from './sides.js';

export interface Steps {
  side: Side;
  flavour: Flavour;
  /** The side's path for `rel`. */
  p(rel: string): string;
  /** Calls fs `name` in the scenario's flavour and records the outcome. */
  run(name: string, ...args: unknown[]): Promise<Outcome>;
  /** Records a value computed by the scenario itself (a read-back, a stat...). */
  note(label: string, value: unknown): void;
}

export type Scenario = (s: Steps) => Promise<void> | void;

export async function record(side: Side, flavour: Flavour, scenario: Scenario): Promise<unknown[]> {
  const log: unknown[] = [];
  const steps: Steps = {
    side,
    flavour,
    p: side.p,
    run: async (name, ...args) => {
      const out = await call(side, flavour, name, ...args);
      log.push([name, out]);
      return out;
    },
    note: (label, value) => log.push([label, value]),
  };
  await scenario(steps);
  log.push(['tree', snapshot(side)]);
  return log;
}

/** Runs `scenario` on both sides and asserts equal logs. */
export async function compareSides(t: ExecutionContext, flavour: Flavour, scenario: Scenario): Promise<void> {
  const [real, layer] = bothSides();
  try {
    const expected = await record(real, flavour, scenario);
    const actual = await record(layer, flavour, scenario);
    t.deepEqual(actual, expected);
  } finally {
    real.dispose();
    layer.dispose();
  }
}

/** One ava test per flavour (or the flavours given). */
export function diff(title: string, scenario: Scenario, flavours: Flavour[] = FLAVOURS): void {
  for (const flavour of flavours) {
    test(`${title} [${flavour}]`, (t) => compareSides(t, flavour, scenario));
  }
}

/** Time as a dependency, so gates' timeouts are tested with a fake clock instead of sleeping. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /**
   * Work that is neither a child process nor a sleep but must take no cloud time: an HTTP exchange
   * (power/maas.ts). Only a drill's clock has it (runtime/sim-clock.ts keeps the process busy until
   * the promise settles); with real time there is nothing to hold.
   */
  hold?<T>(p: Promise<T>): Promise<T>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A clock whose sleep only advances its own time. */
export function fakeClock(start = 0): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

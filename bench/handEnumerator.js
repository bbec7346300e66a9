// The baseline of bench/race.js (b): a minimal hand-written gate enumerator for the seed scenario. It knows
// the step counts (reader 3, writer 2), lists every order of them, and runs each order by making every
// client call wait for its turn; a step's turn passes on when its reply has come back.
'use strict';

/** Every distinct order of a multiset of actor names: orders({ reader: 3, writer: 2 }) has C(5,2) = 10. */
function orders(counts, prefix = []) {
  const left = Object.entries(counts).filter(([, n]) => n > 0);
  if (left.length === 0) return [prefix];
  return left.flatMap(([name, n]) => orders({ ...counts, [name]: n - 1 }, [...prefix, name]));
}

/** Wraps `client`'s `methods` so each call is one step of `actor`, run only when `order` says so. */
function gated(turns, actor, client, methods) {
  const out = {};
  for (const m of methods) {
    out[m] = async (...args) => {
      await new Promise((go) => turns.wait(actor, go));
      try {
        return await client[m](...args);
      } finally {
        turns.next();
      }
    };
  }
  return out;
}

function turnsFor(order) {
  let i = 0;
  const waiting = new Map();
  const pump = () => {
    const go = waiting.get(order[i]);
    if (go) (waiting.delete(order[i]), go());
  };
  return { wait: (actor, go) => (waiting.set(actor, go), pump()), next: () => (i++, pump()) };
}

/** Runs one order: reset, setup, both actors through the gates, then the check. */
async function runOrder(order, { reset, setup, clients, actors, check }) {
  await reset();
  await setup();
  const turns = turnsFor(order);
  await Promise.all(
    Object.entries(actors).map(([name, run]) =>
      run(gated(turns, name, clients[name].db, ['query']), gated(turns, name, clients[name].redis, ['get', 'set', 'del'])),
    ),
  );
  return check();
}

module.exports = { orders, runOrder };

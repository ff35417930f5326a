'use strict';
// A pipe test child (Node SDK) that proves requests overlap inside one instance.
//
// Each request waits until BARRIER_PARTIES requests (default 4) are inside the handler at once,
// then all of them answer "together". If the barrier is not reached within BARRIER_TIMEOUT_MS
// (default 20000) the waiting requests answer "alone", and so does every later one: a gateway
// that serialises requests gets "alone" instead of hanging. The answer is "together <pid>" or
// "alone <pid>".
const path = require('node:path');

const { serve } = require(path.join(process.env.SDK_NODE, 'local_lambdas.js'));

const PARTIES = Number(process.env.BARRIER_PARTIES || 4);
const TIMEOUT_MS = Number(process.env.BARRIER_TIMEOUT_MS || 20000);
const waiting = [];
let broken = false;

function arrive() {
  if (broken) return Promise.resolve('alone');
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (waiting.length === PARTIES) {
      waiting.splice(0).forEach((release) => release('together'));
      return;
    }
    setTimeout(() => {
      broken = true;
      waiting.splice(0).forEach((release) => release('alone'));
    }, TIMEOUT_MS).unref();
  });
}

serve(async () => `${await arrive()} ${process.pid}`);

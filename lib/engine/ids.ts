import { randomBytes, randomInt } from 'node:crypto';
import { newError } from '../errors/index.js';

const ID_PATTERN = /^[0-9a-f]{64}$/;
// docker's rule (daemon/names): a first character that is a letter or digit, then at least one more.
const NAME_PATTERN = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
// A name is also a file name under `<root>/names/`.
const NAME_MAX = 255;

// Our own short lists, in the spirit of docker's namesgenerator: adjective_surname of people of computing.
const ADJECTIVES = [
  'agile',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'cosmic',
  'crisp',
  'eager',
  'fair',
  'gentle',
  'happy',
  'keen',
  'kind',
  'lucid',
  'merry',
  'nimble',
  'noble',
  'patient',
  'quiet',
  'rapid',
  'serene',
  'sharp',
  'steady',
  'swift',
  'tidy',
  'vivid',
  'warm',
  'wise',
  'witty',
  'zealous',
  'zen',
];
const SURNAMES = [
  'allen',
  'babbage',
  'backus',
  'bartik',
  'cerf',
  'dijkstra',
  'engelbart',
  'floyd',
  'goldberg',
  'hamilton',
  'hoare',
  'hopper',
  'kahn',
  'kay',
  'knuth',
  'lamport',
  'liskov',
  'lovelace',
  'mccarthy',
  'minsky',
  'naur',
  'perlman',
  'ritchie',
  'shannon',
  'sutherland',
  'tarjan',
  'thompson',
  'torvalds',
  'turing',
  'wilkes',
  'wirth',
  'yao',
];

/**
 * A new container id: 64 lower-case hex characters from 32 random bytes. Like docker, an id whose 12-character
 * short form is all digits is drawn again, so a short id is never mistaken for a number.
 */
export function newContainerId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^[0-9]{12}/.test(id)) return id;
  }
}

/** Whether `value` is a full container id (64 lower-case hex characters). */
export function isContainerId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * A docker-style random name, `adjective_surname`. With `attempt > 0` (the caller's retry after a collision) a
 * number from 0 to 9 is appended, as docker does, so retries widen the space.
 */
export function generateName(attempt = 0): string {
  const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
  return attempt > 0 ? `${name}${randomInt(10)}` : name;
}

/** Whether `name` is a valid container name (docker's rule, an optional leading '/', at most 255 characters). */
export function isValidContainerName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name) && name.replace(/^\//, '').length <= NAME_MAX;
}

/**
 * Checks a container name and returns it without its leading '/' (the form containerkit stores; docker shows it
 * with one).
 * @throws ERR_INVALID_CONTAINER_NAME when it breaks the rule of {@link isValidContainerName}.
 */
export function normalizeContainerName(name: string): string {
  const given: unknown = name;
  if (!isValidContainerName(given)) {
    const shown = typeof given === 'string' ? JSON.stringify(given.slice(0, 300)) : typeof given;
    throw newError('ERR_INVALID_CONTAINER_NAME', `invalid container name ${shown}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least two characters`, {
      details: { name },
    });
  }
  return name.startsWith('/') ? name.slice(1) : name;
}

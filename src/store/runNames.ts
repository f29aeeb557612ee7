/** Friendly generated run names (`adjective-noun-123`), as MLflow gives runs created without one. */
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'crisp', 'curious', 'daring', 'eager',
  'fancy', 'gentle', 'glad', 'golden', 'grand', 'happy', 'honest', 'humble', 'jolly', 'keen',
  'kind', 'lively', 'lucky', 'mellow', 'merry', 'mighty', 'nimble', 'noble', 'patient', 'placid',
  'polite', 'proud', 'quick', 'quiet', 'rapid', 'rare', 'royal', 'rustic', 'serene', 'sharp',
  'shiny', 'silent', 'silver', 'smooth', 'snappy', 'solid', 'steady', 'sunny', 'swift', 'tidy',
  'tranquil', 'upbeat', 'valiant', 'vivid', 'warm', 'wise', 'witty', 'zealous', 'zesty', 'cosmic',
];
const NOUNS = [
  'ant', 'badger', 'bat', 'bear', 'bee', 'bird', 'bison', 'boar', 'cat', 'colt',
  'crab', 'crane', 'crow', 'deer', 'dog', 'dove', 'duck', 'eagle', 'eel', 'elk',
  'falcon', 'finch', 'fish', 'fox', 'frog', 'goat', 'goose', 'hare', 'hawk', 'heron',
  'horse', 'ibis', 'jay', 'koala', 'lark', 'lion', 'lynx', 'mole', 'moose', 'moth',
  'newt', 'otter', 'owl', 'panda', 'pony', 'quail', 'ram', 'raven', 'robin', 'seal',
  'shark', 'sloth', 'snail', 'squid', 'stork', 'swan', 'tiger', 'toad', 'trout', 'whale',
];

export function generateRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}

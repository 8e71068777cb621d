// Word lists for readable room addresses (quiet-otter-7xk2): short, friendly, unambiguous.
export const slugWords = {
  adjectives: [
    'amber', 'bold', 'brave', 'breezy', 'bright', 'calm', 'clever', 'cosy', 'crisp', 'daring', 'eager', 'early',
    'fair', 'fancy', 'fond', 'gentle', 'glad', 'golden', 'grand', 'happy', 'hazel', 'honest', 'humble', 'jolly',
    'keen', 'kind', 'lively', 'lucky', 'merry', 'mellow', 'misty', 'modest', 'noble', 'nimble', 'olive', 'patient',
    'plucky', 'polite', 'proud', 'quick', 'quiet', 'rapid', 'ready', 'rosy', 'rustic', 'shy', 'silent', 'silver',
    'snowy', 'sunny', 'swift', 'tidy', 'tiny', 'tranquil', 'upbeat', 'velvet', 'vivid', 'warm', 'wise', 'witty',
    'young', 'zesty', 'cheery', 'dapper',
  ],
  animals: [
    'otter', 'badger', 'beaver', 'bison', 'crane', 'deer', 'dolphin', 'eagle', 'falcon', 'ferret', 'finch', 'fox',
    'gecko', 'goose', 'hare', 'hedgehog', 'heron', 'ibis', 'jay', 'koala', 'lark', 'lemur', 'lynx', 'marten',
    'mole', 'moose', 'newt', 'owl', 'panda', 'panther', 'parrot', 'pelican', 'penguin', 'puffin', 'quail', 'rabbit',
    'raven', 'robin', 'salmon', 'seal', 'sparrow', 'squirrel', 'stork', 'swan', 'tapir', 'tiger', 'toucan', 'trout',
    'turtle', 'walrus', 'weasel', 'whale', 'wolf', 'wombat', 'wren', 'yak', 'zebra', 'bee', 'kiwi', 'orca',
    'mink', 'ocelot', 'starling', 'thrush',
  ],
} as const;

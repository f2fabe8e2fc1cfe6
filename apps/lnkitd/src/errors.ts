/** lnkitd's own failures before the node runs: bad options, a config file or data dir it cannot use. */
export type ConfigErrorCode =
  /** A flag, environment variable or lnkit.conf setting with a bad name or value. */
  | 'invalid-option'
  /** lnkit.conf is not a text file of name=value lines. */
  | 'invalid-config-file'
  /** The data dir cannot be created, written, or is unsafe to use (world-writable). */
  | 'data-dir'
  /** Another lnkitd holds the data dir. */
  | 'data-dir-in-use';

/** main.ts prints the message (one line, no stack) and exits with code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly code: ConfigErrorCode = 'invalid-option',
  ) {
    super(message);
  }
}

/** A mistake in what the user asked for, or a service that is not there: one line, no stack. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

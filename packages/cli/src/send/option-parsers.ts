import { InvalidArgumentError } from "commander";

/** Commander parsers: a bad number is reported by commander with the option's name. */
export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError("expected a whole number ≥ 1");
  }
  return number;
}

export function nonNegativeInteger(value: string): number {
  const number = nonNegativeNumber(value);
  if (!Number.isInteger(number)) throw new InvalidArgumentError("expected a whole number ≥ 0");
  return number;
}

export function nonNegativeNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError("expected a number ≥ 0");
  }
  return number;
}

export function fraction(value: string): number {
  const number = nonNegativeNumber(value);
  if (number > 1) throw new InvalidArgumentError("expected a fraction between 0 and 1");
  return number;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

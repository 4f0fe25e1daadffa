// The slice of a pino logger this package uses (createLogger from @hatch/platform fits).
export interface DispatchLogger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export const silentLogger: DispatchLogger = { info() {}, warn() {}, error() {} };
